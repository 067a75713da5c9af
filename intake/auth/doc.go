// Package auth decides whether an email comes from who its From field says,
// before its sender is credited, and reads a spam filter's verdict.
//
// # What is checked
//
// A Verifier applies one Requirement per mailbox:
//
//   - RequireDMARC: a valid DKIM signature aligned with the From domain as
//     DMARC defines it (RFC 7489 section 3.1.1): relaxed alignment, by
//     organizational domain from the Public Suffix List, unless the From
//     domain's DMARC record says adkim=s, in which case the signing domain
//     must be the From domain itself. Earshot reads mail over IMAP and never
//     sees the connecting address, so it cannot evaluate SPF; an aligned
//     DKIM signature is the only way to a DMARC pass here. A domain without
//     a DMARC record is held to relaxed alignment: the record only reports
//     its policy (Result.Policy) and may tighten alignment, so it is looked
//     up only when a valid signature by another domain of the From
//     domain's organization depends on it; unsigned mail costs no lookup.
//   - RequireDKIM: a valid DKIM signature by the From domain's
//     organizational domain or any of its subdomains; no DMARC lookup.
//   - RequireNone: no check; the roster alone decides.
//
// Whatever the requirement, a message with no From field, several From
// fields, several From addresses, or one that does not read or has no
// domain name, is never verified.
//
// # A trusted server's verdict
//
// When Options.TrustedAuthServIDs is set, the operator says that the mail
// server verified the mail on receipt: its Authentication-Results field
// (RFC 8601) is believed instead, and Earshot makes no DNS lookup. A
// message without such a field is not verified. RequireDMARC is met by the
// server's dmarc=pass for the From domain (header.from must name it), or,
// when the server evaluated no DMARC policy (no dmarc result, or
// dmarc=none), by its aligned dkim=pass; any other dmarc result fails.
// RequireDKIM is met by the server's dkim=pass whose header.d is the From
// domain's organizational domain or a subdomain of it.
//
// Anyone can add an Authentication-Results field to a message, with any
// authserv-id, before it reaches the trusted server, and that server adds
// its own fields on top of the header. So only the topmost block counts:
// reading from the top, other fields are passed over until the first
// Authentication-Results field, which must carry a trusted authserv-id; the
// block takes it and the trusted ones that follow, up to the first Received
// field or the first Authentication-Results field of another authserv-id.
// Within the block the topmost result of each method counts. Fields below
// the block are ignored whatever their authserv-id. This holds when the
// trusted server writes its fields above the Received field it adds for
// the message, where mail filters usually put them; a server that writes
// them below its Received field, with nothing of its own between them and
// the message's header, must also remove the fields that claim its
// authserv-id, as RFC 8601 section 5 asks. Comments are dropped, and
// quoted strings and domain literals kept whole, before a field is read,
// so that a crafted address in smtp.mailfrom cannot pass for a result of
// its own.
//
// # Line endings
//
// Verify reads the message as stored and does not rewrite it (a message
// with no body only gets the empty line that ends its header). DKIM signs
// the CRLF form of a message; mail read over IMAP may come with LF
// line endings instead, or a mixture. Header fields are read line by line
// whatever the ending, and the body is canonicalized with every lone LF
// taken as CRLF, so a message stored with its CRLFs turned into LFs
// verifies as it did on the wire. Line endings rewritten any other way are
// not undone: CRLF doubled into CR CR LF by a second conversion leaves a
// header that does not read ("DKIM signatures could not be read"), or, in
// the body alone, "dkim=fail: body hash did not verify", as does any other
// change to the body (lone LFs that were signed as such and are now CRLFs,
// trailing spaces stripped under simple canonicalization, a re-encoded
// part, a footer); a changed signed header field gives "dkim=fail:
// signature did not verify". Such a message is not verified; a trusted
// server's verdict, taken before the change, is the way to credit it.
//
// # DNS
//
// DKIM keys and DMARC records come from a Resolver: by default NetResolver
// (the system's DNS, 3 s per lookup) behind a Cache, which keeps answers
// and "no such record" for a while and never keeps a failure. A lookup
// that gets no answer makes the verdict temporary when the verdict depends
// on it: Verify returns an error wrapping ErrTemporary, and
// Result.Temporary, so that the caller retries the message later instead
// of refusing a genuine sender. A name without records is an answer, and a
// missing key fails the signature.
//
// # Spam
//
// Verify also reports a spam filter's positive verdict: "X-Spam-Flag:
// YES", "X-Spam-Status: Yes, ...", and rspamd's X-Spam-Action of reject,
// add header, rewrite subject or soft reject, wherever they are in the
// header. Only positive verdicts count: a forged one can only mark its own
// message as spam, and a forged "no" changes nothing.
package auth
