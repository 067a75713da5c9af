package web

import (
	"time"

	"github.com/earshot-dev/earshot/model"
)

// monthOf is the month of t in the zone points are counted in.
func (d *Dashboard) monthOf(t time.Time) model.Month { return model.MonthOf(t, d.loc) }

// thisMonth is the current month in the configured zone.
func (d *Dashboard) thisMonth() model.Month { return d.monthOf(d.now()) }
