package cgocontrol

import "testing"

// The two loops compute the same value: the control compares like with like.
func TestSpinCAndGoAgree(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 1000} {
		if c, g := SpinC(n), SpinGo(n); c != g {
			t.Fatalf("n=%d: C %d, Go %d", n, c, g)
		}
	}
	if SpinC(1) != 6364136223846793005+1442695040888963407 {
		t.Fatalf("one step: %d", SpinC(1))
	}
}
