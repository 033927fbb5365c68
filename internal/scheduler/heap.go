package scheduler

// iheap is an indexed binary min-heap of ids. pos maps an id to its index
// in ids; several heaps may share one pos slice when no id is in two of
// them.
type iheap struct {
	ids  []int32
	pos  []int32
	less func(a, b int32) bool
}

func (h *iheap) init() {
	for j, id := range h.ids {
		h.pos[id] = int32(j)
	}
	for j := len(h.ids)/2 - 1; j >= 0; j-- {
		h.down(j)
	}
}

func (h *iheap) top() int32 { return h.ids[0] }

// fix restores the heap after id's key changed.
func (h *iheap) fix(id int32) {
	j := int(h.pos[id])
	if !h.down(j) {
		h.up(j)
	}
}

// remove takes id out of the heap.
func (h *iheap) remove(id int32) {
	j := int(h.pos[id])
	last := len(h.ids) - 1
	if j != last {
		h.swap(j, last)
	}
	h.ids = h.ids[:last]
	if j != last {
		h.fix(h.ids[j])
	}
}

func (h *iheap) swap(x, y int) {
	ids := h.ids
	ids[x], ids[y] = ids[y], ids[x]
	h.pos[ids[x]] = int32(x)
	h.pos[ids[y]] = int32(y)
}

func (h *iheap) up(j int) {
	for j > 0 {
		parent := (j - 1) / 2
		if !h.less(h.ids[j], h.ids[parent]) {
			return
		}
		h.swap(j, parent)
		j = parent
	}
}

func (h *iheap) down(j int) bool {
	start, n := j, len(h.ids)
	for {
		l := 2*j + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(h.ids[r], h.ids[l]) {
			m = r
		}
		if !h.less(h.ids[m], h.ids[j]) {
			break
		}
		h.swap(j, m)
		j = m
	}
	return j > start
}
