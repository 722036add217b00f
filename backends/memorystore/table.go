package memorystore

// table is a shard's index of its entries: an open-addressing hash table with linear
// probing, keyed by the key's maphash, which the store computes once per decision to pick
// the shard. A Go map[string]*entry would hash the key a second time and, on a store
// larger than the CPU caches, read its control word, its slot and the key's bytes from
// three places in memory before reaching the entry; a slot here holds the hash and the
// entry, so a lookup reads one slot (16 bytes, usually the first probed) and then the
// entry, whose key it compares, stored inline (see newEntry).
//
// It holds at most 3/4 of its slots and grows by doubling; like a Go map, it does not
// shrink. A table is guarded by its shard's mutex.
type table struct {
	slots []slot // len is 0 or a power of two; a slot with a nil e is empty
	n     int
}

type slot struct {
	hash uint64
	e    *entry
}

// home is where a hash's probe starts. The low bits of the hash pick the shard
// (Store.shard), so the table indexes from the bits above them.
func (t *table) home(hash uint64) int { return int(hash>>8) & (len(t.slots) - 1) }

// get returns the entry of key, whose hash is hash, or nil.
func (t *table) get(hash uint64, key string) *entry {
	if t.n == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := t.home(hash); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.e == nil {
			return nil
		}
		if s.hash == hash && s.e.key == key {
			return s.e
		}
	}
}

// put adds e, whose key hashes to hash and is not in t.
func (t *table) put(hash uint64, e *entry) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.place(slot{hash, e})
	t.n++
}

func (t *table) place(s slot) {
	mask := len(t.slots) - 1
	i := t.home(s.hash)
	for t.slots[i].e != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

func (t *table) grow() {
	old := t.slots
	t.slots = make([]slot, max(8, 2*len(old)))
	for _, s := range old {
		if s.e != nil {
			t.place(s)
		}
	}
}

// remove removes e, whose key hashes to hash, and shifts back the entries after it that
// would no longer be found (linear probing's deletion, which leaves no tombstones).
func (t *table) remove(hash uint64, e *entry) {
	mask := len(t.slots) - 1
	i := t.home(hash)
	for t.slots[i].e != e {
		i = (i + 1) & mask
	}
	for j := i; ; {
		t.slots[i] = slot{}
		for {
			j = (j + 1) & mask
			if t.slots[j].e == nil {
				t.n--
				return
			}
			// The slot at j stays unless the hole at i lies on its probe path, from its
			// home to j (cyclically).
			if h := t.home(t.slots[j].hash); (j-h)&mask >= (j-i)&mask {
				break
			}
		}
		t.slots[i] = t.slots[j]
		i = j
	}
}
