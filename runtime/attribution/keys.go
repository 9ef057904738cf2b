package attribution

// keyTable numbers the keys met in one call, so that credit and chain
// states are kept in slices indexed by number rather than in maps keyed by
// string. Numbers are given in order of first use; nothing depends on them
// but the slices.
type keyTable struct {
	ids   map[string]int32
	names []string
	// recent remembers a key per slot of a cheap hash: a journey set has
	// few keys, usually the same strings, so most lookups end here with one
	// comparison (a pointer comparison when the caller interned them).
	recent [recentSlots]recentKey
}

// recentSlots is the size of keyTable.recent.
const recentSlots = 64

type recentKey struct {
	key string
	id  int32
}

func newKeyTable() *keyTable {
	k := &keyTable{ids: map[string]int32{}}
	for i := range k.recent {
		k.recent[i].id = -1
	}
	return k
}

// id is key's number, a new one when key is new.
func (k *keyTable) id(key string) int32 {
	slot := &k.recent[recentSlot(key)]
	if slot.id >= 0 && slot.key == key {
		return slot.id
	}
	id, ok := k.ids[key]
	if !ok {
		id = int32(len(k.names))
		k.ids[key] = id
		k.names = append(k.names, key)
	}
	*slot = recentKey{key, id}
	return id
}

// recentSlot is key's slot in keyTable.recent: its length and first and
// last bytes tell the usual keys apart.
func recentSlot(key string) uint {
	n := uint(len(key))
	if n == 0 {
		return 0
	}
	return (n*31 + uint(key[0])*7 + uint(key[n-1])) % recentSlots
}

// valueID is the number of a touch's value in a dimension: NoneKey's when
// empty, as Dimension.Key.
func (k *keyTable) valueID(v string) int32 {
	if v == "" {
		v = NoneKey
	}
	return k.id(v)
}

// touchKeys appends to dst the numbers of the touches' keys in dim.
func (k *keyTable) touchKeys(dst []int32, ts []Touch, dim Dimension) []int32 {
	switch dim {
	case DimensionChannel:
		for i := range ts {
			dst = append(dst, k.valueID(ts[i].Channel))
		}
	case DimensionSource:
		for i := range ts {
			dst = append(dst, k.valueID(ts[i].Source))
		}
	case DimensionCampaign:
		for i := range ts {
			dst = append(dst, k.valueID(ts[i].Campaign))
		}
	default:
		for i := range ts {
			dst = append(dst, k.id(dim.Key(ts[i])))
		}
	}
	return dst
}

// len is how many keys have a number.
func (k *keyTable) len() int { return len(k.names) }
