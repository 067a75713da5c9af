package routing

// DefaultTopics returns the topics used when the configuration names none: pricing, discount, feature request,
// bug, outage, churn risk, win, loss, security and integration.
func DefaultTopics() []Topic {
	return []Topic{
		{Name: "pricing", Keywords: []string{
			"pricing", "price", "priced", "pricey", "price point", "list price", "price increase",
			"expensive", "too costly", "cost", "budget", "quote", "per seat", "per user", "licence fee", "license fee",
		}},
		{Name: "discount", Keywords: []string{
			"discount", "discounted", "% off", "percent off", "pct off", "promo", "coupon", "rebate",
			"free months", "months free", "price cut", "undercut", "undercutting", "cheaper", "match the price",
		}},
		{Name: "feature request", Keywords: []string{
			"feature request", "would love", "wish list", "wishlist", "can you add", "could you add",
			"would be great if", "would be nice", "nice to have", "missing feature", "enhancement", "roadmap",
			"need a way", "needs a way", "asked for", "asking for", "requested", "fr",
		}},
		{Name: "bug", Keywords: []string{
			"bug", "broken", "error", "crash", "crashes", "crashed", "crashing", "glitch", "doesn't work",
			"doesnt work", "not working", "does not work", "fails", "failing", "failed", "regression", "defect",
			"wrong totals", "blank screen",
		}},
		{Name: "outage", Keywords: []string{
			"outage", "downtime", "went down", "is down", "was down", "been down", "are down", "site down",
			"system down", "unavailable", "offline", "degraded", "incident", "503", "500 error", "timeouts",
			"can't log in", "cannot log in", "cant login", "can't login",
		}},
		{Name: "churn risk", Keywords: []string{
			"churn", "churning", "cancel", "cancelling", "canceling", "cancellation", "not renewing",
			"won't renew", "wont renew", "non-renewal", "walk away", "threatening to leave", "thinking of leaving",
			"at risk", "unhappy", "frustrated", "terminate", "looking at alternatives", "evaluating alternatives",
			"escalation", "escalated",
		}},
		{Name: "win", Keywords: []string{
			"closed won", "we won", "won the deal", "won it", "signed", "chose us", "picked us", "went with us",
			"displaced", "verbal yes", "po received", "got the po",
		}},
		{Name: "loss", Keywords: []string{
			"closed lost", "lost the deal", "lost to", "we lost", "lost it", "went with", "chose", "passed on us",
			"no decision", "dropped us", "lost the renewal",
		}},
		{Name: "security", Keywords: []string{
			"security", "soc 2", "soc2", "sso", "saml", "gdpr", "hipaa", "pen test", "pentest",
			"penetration test", "vulnerability", "breach", "encryption", "data residency", "security review",
			"security questionnaire", "iso 27001", "mfa", "2fa", "audit log", "single sign-on",
		}},
		{Name: "integration", Keywords: []string{
			"integration", "integrate", "integrates", "api", "webhook", "connector", "sync", "syncing",
			"plugin", "plug-in", "sdk", "erp", "two-way sync",
		}},
	}
}
