package attribution

// keyTable numbers the keys met in one call, so that credit and chain
// states are kept in slices indexed by number rather than in maps keyed by
// string. Numbers are given in order of first use; nothing depends on them
// but the slices.
type keyTable struct {
	ids   map[string]int32
	names []string
}

func newKeyTable() *keyTable { return &keyTable{ids: map[string]int32{}} }

// id is key's number, a new one when key is new.
func (k *keyTable) id(key string) int32 {
	id, ok := k.ids[key]
	if !ok {
		id = int32(len(k.names))
		k.ids[key] = id
		k.names = append(k.names, key)
	}
	return id
}

// touchKeys appends to dst the numbers of the touches' keys in dim.
func (k *keyTable) touchKeys(dst []int32, ts []Touch, dim Dimension) []int32 {
	for _, t := range ts {
		dst = append(dst, k.id(dim.Key(t)))
	}
	return dst
}

// len is how many keys have a number.
func (k *keyTable) len() int { return len(k.names) }
