// Package benchmarks measures ratewarden against peer libraries on the same machine, side
// by side in one run (SPEC section 9). It is its own module, the only one of the
// repository allowed to import those peers; it has no code of its own beyond the
// benchmarks in its test files.
package benchmarks
