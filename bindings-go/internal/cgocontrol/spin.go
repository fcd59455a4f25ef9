// Package cgocontrol is the Go benchmark's control for the cgo boundary: one fixed piece of
// arithmetic, written once in C and called through cgo, and once in Go, with no authsec code and
// no memory traffic. TestBenchReport times both one at a time and on every P at once: what the
// C loop loses against the Go loop in the second regime is the price of the boundary itself
// (the runtime's sysmon retakes the P of a cgo call that outlasts its 20 µs tick and hands it to
// a thread that finds nothing to run; golang/go#19574), which every cgo library pays there.
package cgocontrol

/*
#include <stdint.h>

// A chain of dependent multiply-adds (a 64-bit LCG): the compiler can neither vectorize nor
// shorten it, and the barrier keeps it from folding the loop.
static uint64_t cgocontrol_spin(uint64_t n) {
	uint64_t x = 1;
	for (uint64_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}
*/
import "C"

// SpinC runs n steps of the chain in C, through one cgo call.
func SpinC(n uint64) uint64 { return uint64(C.cgocontrol_spin(C.uint64_t(n))) }

// SpinGo runs the same n steps in Go.
func SpinGo(n uint64) uint64 {
	x := uint64(1)
	for i := uint64(0); i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}
