package routing

// commonWords are English words frequent in speech. A transcript is made of dictionary words, so a recogniser
// that misses a name puts common words in its place ("at me" for Acme); but the same words are everywhere in
// speech that names nobody. A phrase made only of these words is taken for a name only with a context word
// nearby (competitors) or not at all (products), and a name that is itself one of these words is never matched
// by sound.
var commonWords = setOf(
	// articles, pronouns, determiners
	"a", "an", "the", "i", "me", "my", "mine", "we", "us", "our", "ours", "you", "your", "yours", "he", "him",
	"his", "she", "her", "hers", "it", "its", "they", "them", "their", "theirs", "this", "that", "these", "those",
	"who", "whom", "whose", "which", "what", "each", "every", "all", "any", "some", "no", "none", "both",
	"either", "neither", "other", "another", "such", "own", "same", "one", "ones", "s", "t", "d", "ll", "m",
	"re", "ve",
	// prepositions and conjunctions
	"at", "by", "for", "from", "in", "into", "of", "off", "on", "onto", "out", "over", "to", "up", "down",
	"with", "without", "about", "above", "after", "against", "along", "among", "around", "as", "before",
	"behind", "below", "between", "beyond", "during", "except", "inside", "near", "since", "through",
	"toward", "towards", "under", "until", "upon", "via", "within", "and", "or", "but", "nor", "so", "yet",
	"if", "then", "than", "because", "while", "when", "where", "whether", "though", "although", "unless",
	// auxiliaries and the commonest verbs
	"am", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "doing", "done", "have",
	"has", "had", "having", "will", "would", "shall", "should", "can", "could", "may", "might", "must",
	"get", "gets", "got", "getting", "go", "goes", "going", "gone", "went", "come", "comes", "came", "coming",
	"make", "makes", "made", "take", "takes", "took", "taken", "give", "gave", "given", "see", "saw", "seen",
	"say", "says", "said", "tell", "told", "ask", "asked", "know", "knew", "known", "think", "thought",
	"want", "wants", "wanted", "need", "needs", "needed", "look", "looks", "looked", "looking", "let", "lets",
	"put", "keep", "kept", "call", "called", "calling", "send", "sent", "talk", "talked", "like", "liked",
	"use", "used", "using", "work", "works", "worked", "working", "try", "tried", "feel", "felt", "leave",
	"left", "mean", "meant", "run", "running", "ran", "set", "show", "help", "hear", "heard", "meet", "met",
	"move", "moving", "pay", "paid", "buy", "bought", "sell", "sold", "start", "started", "stop", "find",
	"found", "turn", "bring", "brought", "hold", "play", "live", "seem", "happen", "happened",
	// adverbs, adjectives, fillers
	"not", "now", "just", "also", "very", "too", "only", "even", "still", "again", "ever", "never", "always",
	"here", "there", "how", "why", "well", "back", "away", "really", "quite", "much", "many", "more", "most",
	"less", "least", "few", "lot", "lots", "little", "big", "small", "good", "great", "bad", "new", "old",
	"long", "short", "high", "low", "next", "last", "first", "second", "best", "better", "sure", "right",
	"yes", "yeah", "okay", "ok", "oh", "uh", "um", "hi", "hey", "hello", "bye", "thanks", "thank", "please",
	"sorry", "maybe", "today", "tomorrow", "yesterday", "week", "month", "year", "day", "time", "times",
	"thing", "things", "way", "people", "man", "men", "guy", "guys", "team", "part", "place", "case",
	// numbers
	"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty",
	"thirty", "forty", "fifty", "hundred", "thousand", "percent",
)

// setOf makes a set of words.
func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
