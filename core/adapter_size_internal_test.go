package core

import (
	"testing"
	"unsafe"
)

// TestGateAllocationSize: the one allocation of Gate (decision, request copy, key and
// header values) fits the runtime's 1,024-byte size class, which holds 1,016 bytes of an
// object with pointers (objects over 512 bytes carry an 8-byte type header). Every byte
// of it is GC work on every request: it took 1,280 bytes before its fields were trimmed.
// A field that pushes it past 1,016 costs the next size class (1,152), 12 % more.
func TestGateAllocationSize(t *testing.T) {
	if size := unsafe.Sizeof(decisionContext{}); size > 1024-8 {
		t.Errorf("decisionContext is %d bytes, over the 1,024-byte size class (1,016 bytes and the header)", size)
	}
}
