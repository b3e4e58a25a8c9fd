package sqlfacts

import (
	"strings"
	"sync"
	"unsafe"

	"github.com/tollgate-db/tollgate/policy"
)

// MaxCachedText is the longest text a Cache keeps the facts of: a longer
// one is parsed on every call. Applications repeat their statements; a
// text this long is usually a one-off (a bulk INSERT of literals) that
// would only push the repeated ones out.
const MaxCachedText = 64 << 10

// Cache keeps the facts of recently parsed texts, for all the sessions
// of an agent: applications send the same few hundred statements over and
// over, and the parser costs far more than a lookup. It is bounded both
// in entries and in (approximate) bytes, and evicts the least recently
// used entry. It is safe for concurrent use. A hit takes one mutex and a
// map lookup and does not allocate.
type Cache struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int64
	bytes      int64
	entries    map[string]*entry // by text
	shapes     map[string]*entry // by shape (shape.go), texts with numbers
	// root is the sentinel of the recency ring: root.next is the most
	// recently used entry, root.prev the least.
	root entry
}

// entry is one cached text; the facts are shared read-only by every
// caller that gets them.
type entry struct {
	text       string // the key: the text, or the shape
	shape      bool   // keyed in shapes
	facts      policy.Facts
	size       int64
	prev, next *entry
}

// NewCache returns an empty cache of at most maxEntries entries and
// about maxBytes bytes (texts and facts). A bound below 1 disables
// caching: every call parses.
func NewCache(maxEntries int, maxBytes int64) *Cache {
	c := &Cache{maxEntries: maxEntries, maxBytes: maxBytes, entries: make(map[string]*entry), shapes: make(map[string]*entry)}
	c.root.next, c.root.prev = &c.root, &c.root
	return c
}

// Facts returns the facts of text, parsing it on a miss. The result is
// shared: callers must not modify it. A text with numeric constants is
// found by its shape (shape.go).
func (c *Cache) Facts(text string) *policy.Facts {
	// By text first: a text without numbers is kept so (and found with no
	// lexing), as is one whose numbers the scanner reads otherwise.
	if e := c.get(c.entries, text); e != nil {
		return &e.facts
	}
	bp := shapeBufs.Get().(*[]byte)
	defer shapeBufs.Put(bp)
	shape, numbers := appendShape((*bp)[:0], text, nil)
	*bp = shape[:0]
	if numbers {
		if e := c.getShape(shape); e != nil {
			return &e.facts
		}
	}
	f := Parse(text)
	if len(text) > MaxCachedText || c.maxEntries < 1 || c.maxBytes < 1 {
		return &f
	}
	// Parsed outside the lock: sessions missing on different texts parse
	// at once. Two missing on the same text both parse; the first to
	// store wins and both get the same result (Parse is deterministic).
	if numbers {
		var spans []span
		appendShape(shape[:0], text, &spans)
		if verifyShape(text, spans) {
			return &c.put(c.shapes, string(shape), true, f).facts
		}
	}
	return &c.put(c.entries, text, false, f).facts
}

// shapeBufs hold the shapes being looked up (a hit allocates nothing).
var shapeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Len is the number of cached texts and shapes.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries) + len(c.shapes)
}

// get is the entry of key in m, now the most recently used, or nil.
func (c *Cache) get(m map[string]*entry, key string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.touch(m[key])
}

// getShape is get of a shape (m[string(b)] does not allocate).
func (c *Cache) getShape(shape []byte) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.touch(c.shapes[string(shape)])
}

// touch makes e, if any, the most recently used.
func (c *Cache) touch(e *entry) *entry {
	if e != nil {
		c.unlink(e)
		c.pushFront(e)
	}
	return e
}

// put stores f as the facts of key in m, unless another caller stored
// them first, and evicts down to the bounds; it returns the stored entry.
func (c *Cache) put(m map[string]*entry, key string, shape bool, f policy.Facts) *entry {
	// The key is a copy: the caller's text may share the memory of a
	// larger buffer, which the cache must not keep alive.
	e := &entry{text: strings.Clone(key), shape: shape, facts: f}
	e.size = entrySize(e)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := m[key]; old != nil {
		c.unlink(old)
		c.pushFront(old)
		return old
	}
	if e.size > c.maxBytes {
		return e // too big to keep at all
	}
	m[e.text] = e
	c.pushFront(e)
	c.bytes += e.size
	for len(c.entries)+len(c.shapes) > c.maxEntries || c.bytes > c.maxBytes {
		c.evict(c.root.prev)
	}
	return e
}

// evict drops e from the cache.
func (c *Cache) evict(e *entry) {
	c.unlink(e)
	if e.shape {
		delete(c.shapes, e.text)
	} else {
		delete(c.entries, e.text)
	}
	c.bytes -= e.size
}

func (c *Cache) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *Cache) pushFront(e *entry) {
	e.prev, e.next = &c.root, c.root.next
	c.root.next.prev = e
	c.root.next = e
}

// entrySize estimates the memory an entry holds: its text, its facts'
// strings and slices, the entry and its map slot.
func entrySize(e *entry) int64 {
	const (
		entryOverhead = int64(unsafe.Sizeof(entry{})) + 48 // plus the map's key, value and hash
		stmtSize      = int64(unsafe.Sizeof(policy.Statement{}))
		opSize        = int64(unsafe.Sizeof(policy.Op{}))
		tableSize     = int64(unsafe.Sizeof(policy.Table{}))
		stringSize    = int64(unsafe.Sizeof(""))
	)
	n := entryOverhead + int64(len(e.text)) + int64(len(e.facts.Unparseable))
	for _, st := range e.facts.Statements {
		n += stmtSize
		for _, op := range st.Ops {
			n += opSize
			for _, t := range op.Tables {
				n += tableSize + int64(len(t.Schema)+len(t.Name))
			}
		}
		for _, s := range st.Functions {
			n += stringSize + int64(len(s))
		}
		for _, s := range st.Executes {
			n += stringSize + int64(len(s))
		}
		for _, s := range st.Prepares {
			n += stringSize + int64(len(s))
		}
	}
	return n
}
