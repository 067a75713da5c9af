// Package procstat reads processes' CPU time from Linux's /proc, for the
// benchmarks: the bench harness's meters and the store's Go benchmarks.
package procstat

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ClockTicks is the kernel's USER_HZ, the unit of CPU times in /proc.
const ClockTicks = 100

// Fields returns the fields of a /proc/PID/stat file after the command
// name, which may hold spaces: f[0] is the state (field 3), f[1] ppid,
// f[2] pgrp, f[11] utime, f[12] stime, f[13] cutime, f[14] cstime. It
// returns nil for a process that is gone.
func Fields(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return nil
	}
	return f
}

// Sum adds numeric fields of Fields.
func Sum(f []string, idx ...int) int64 {
	var n int64
	for _, i := range idx {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		n += v
	}
	return n
}

// GroupCPU returns the CPU seconds (user and system) used so far by the
// live processes of a process group and the children of its leader: a
// server and its helpers (PostgreSQL's backends start sessions of their
// own, so they are found by their parent). The leader's own count of
// children it has reaped (cutime, cstime) is added, so that a backend or
// worker that exited during a measurement still counts. A process that
// does not lead its group (a server started inside another's group) is
// counted with its children all the same.
func GroupCPU(pgid int) float64 {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, path := range dirs {
		f := Fields(path)
		if f == nil {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		ppid, _ := strconv.Atoi(f[1])
		if pg, _ := strconv.Atoi(f[2]); pg != pgid && ppid != pgid && pid != pgid {
			continue
		}
		ticks += Sum(f, 11, 12)
		if pid == pgid {
			ticks += Sum(f, 13, 14)
		}
	}
	return float64(ticks) / ClockTicks
}

// PidCPU returns the CPU seconds a live process has used, or 0.
func PidCPU(pid int) float64 {
	f := Fields(fmt.Sprintf("/proc/%d/stat", pid))
	if f == nil {
		return 0
	}
	return float64(Sum(f, 11, 12)) / ClockTicks
}

// Parent returns the parent of a live process, or 0.
func Parent(pid int) int {
	f := Fields(fmt.Sprintf("/proc/%d/stat", pid))
	if f == nil {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
