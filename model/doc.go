// Package model holds Earshot's domain: the items the sources receive and
// what processing makes of them (tags, owners, points, outgoing messages),
// the reps who contribute them, and the months they are counted in. Its
// types are plain values that carry their own behaviour; the store only
// persists them, doing every NULL and JSON conversion at its edge. Every
// other package may import model; model imports nothing of Earshot's.
package model
