package config

import "time"

// defaults fills every key the file left out.
func (c *Config) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	defDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.TimeZone, "UTC")
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "json")
	def(&c.HTTP.Listen, "127.0.0.1:8080")
	defDur(&c.HTTP.ReadHeaderTimeout, 10*time.Second)
	defDur(&c.HTTP.ReadTimeout, 30*time.Second)
	defDur(&c.HTTP.WriteTimeout, 30*time.Second)
	defDur(&c.HTTP.DownloadTimeout, 30*time.Minute)
	defDur(&c.HTTP.IdleTimeout, 2*time.Minute)
	defInt(&c.HTTP.MaxHeaderBytes, 64<<10)
	defInt(&c.HTTP.MaxConnections, 512)
	defInt(&c.HTTP.MaxConnectionsPerClient, 64)
	defInt(&c.Workers.Items, 4)
	defInt(&c.Workers.Batch, 20)
	defInt(&c.Workers.MaxAttempts, 8)
	defDur(&c.Workers.Lease, 5*time.Minute)
	defDur(&c.Workers.SourceLease, time.Minute)
	def(&c.PhoneRegion, "US")
	for i := range c.Mailboxes {
		cb := &c.Mailboxes[i].Contributors
		def(&cb.Accept, "roster")
		def(&cb.Require, "dmarc")
		defInt(&cb.HourlyCap, 20)
		m := &c.Mailboxes[i].IMAP
		def(&m.TLS, "implicit")
		if m.Port == 0 {
			m.Port = 143
			if m.TLS == "implicit" {
				m.Port = 993
			}
		}
		def(&m.Folder, "INBOX")
		def(&m.AfterIngest, "keep")
		defDur(&m.PollInterval, time.Minute)
		defDur(&m.IdleRefresh, 9*time.Minute)
		defInt(&m.BatchSize, 100)
		if m.MaxMessageBytes == 0 {
			m.MaxMessageBytes = 50 << 20
		}
	}
	if t := c.Twilio; t != nil {
		defDur(&t.PollInterval, time.Minute)
		def(&t.MediaFormat, "wav")
		defDur(&t.MaxRecordingLength, 5*time.Minute)
		def(&t.Attestation, "A")
	}
	c.slackDefaults()
	c.decisionDefaults()
	defDur(&c.Transcribe.Twilio.Wait, 10*time.Minute)
	def(&c.Transcribe.OpenAI.ResponseFormat, "json")
	def(&c.Transcribe.Engine, "none")
	def(&c.Transcribe.Whisper.Language, "en")
	defDur(&c.Transcribe.Whisper.StartTimeout, time.Minute)
	defDur(&c.Transcribe.Timeout, 2*time.Minute)
	if s := c.SMTP; s != nil {
		def(&s.TLS, "starttls")
		if s.Port == 0 {
			switch s.TLS {
			case "implicit":
				s.Port = 465
			case "none":
				s.Port = 25
			default:
				s.Port = 587
			}
		}
		def(&s.Hostname, "localhost")
	}
	for i := range c.Owners {
		def(&c.Owners[i].Digest, "immediate")
		defDur(&c.Owners[i].SLA, 24*time.Hour)
	}
	if c.Points.Categories == nil {
		c.Points.Categories = map[string]int{"intel": 3, "feedback": 1}
	}
	defDur(&c.DNS.Timeout, 3*time.Second)
	defInt(&c.Acks.DailyCap, 20)
	defInt(&c.Acks.HourlyCap, 1000)
	defInt(&c.Acks.DomainDailyCap, 100)
	if c.Acks.PlusDomains == nil {
		c.Acks.PlusDomains = []string{"*"}
	}
}
