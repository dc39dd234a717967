// Redis' partial quicksort (src/pqsort.c: Bentley & McIlroy's "Engineering a Sort
// Function" with the recursion pruned to a wanted index range), header-only.
//
// Why it exists: SORT ... BY ... LIMIT and GEOSEARCH/GEORADIUS ... COUNT sort with it in
// Redis, and it is not stable, so elements that compare equal come out in an order only
// the same algorithm reproduces. This one makes the same comparisons and the same swaps,
// element for element, so ties land where redis-server puts them. Elements are swapped
// with std::swap; `cmp(a, b)` is a three-way comparison (<0, 0, >0).
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>

namespace ferrite::sdk {

namespace pqsort_detail {

template <typename T>
inline void Swap(T* x, T* y) {
  if (x != y) {
    using std::swap;
    swap(*x, *y);
  }
}

template <typename T, typename Cmp>
T* Med3(T* a, T* b, T* c, Cmp& cmp) {
  return cmp(*a, *b) < 0 ? (cmp(*b, *c) < 0 ? b : (cmp(*a, *c) < 0 ? c : a))
                         : (cmp(*b, *c) > 0 ? b : (cmp(*a, *c) < 0 ? a : c));
}

// True when [first, first + n) holds none of the wanted indexes [lo, hi] (Redis' test:
// both ends of the range lie before the part, or both after it).
inline bool Outside(std::ptrdiff_t first, std::ptrdiff_t n, std::ptrdiff_t lo,
                    std::ptrdiff_t hi) {
  return (lo < first && hi < first) || (lo >= first + n && hi >= first + n);
}

// Sorts base[first, first + n) far enough that indexes lo..hi hold what a full sort
// would put there.
template <typename T, typename Cmp>
void Sort(T* base, std::ptrdiff_t first, std::ptrdiff_t n, Cmp& cmp, std::ptrdiff_t lo,
          std::ptrdiff_t hi) {
  for (;;) {
    T* a = base + first;
    if (n < 7) {
      for (T* pm = a + 1; pm < a + n; ++pm)
        for (T* pl = pm; pl > a && cmp(pl[-1], *pl) > 0; --pl) Swap(pl, pl - 1);
      return;
    }
    T* pm = a + n / 2;
    if (n > 7) {
      T* pl = a;
      T* pn = a + n - 1;
      if (n > 40) {
        const std::ptrdiff_t d = n / 8;
        pl = Med3(pl, pl + d, pl + 2 * d, cmp);
        pm = Med3(pm - d, pm, pm + d, cmp);
        pn = Med3(pn - 2 * d, pn - d, pn, cmp);
      }
      pm = Med3(pl, pm, pn, cmp);
    }
    Swap(a, pm);
    T* pa = a + 1;
    T* pb = a + 1;
    T* pc = a + n - 1;
    T* pd = a + n - 1;
    for (;;) {
      int r;
      while (pb <= pc && (r = cmp(*pb, *a)) <= 0) {
        if (r == 0) Swap(pa++, pb);
        ++pb;
      }
      while (pb <= pc && (r = cmp(*pc, *a)) >= 0) {
        if (r == 0) Swap(pc, pd--);
        --pc;
      }
      if (pb > pc) break;
      Swap(pb++, pc--);
    }
    T* pn = a + n;
    std::ptrdiff_t r = std::min(pa - a, pb - pa);
    for (std::ptrdiff_t i = 0; i < r; i++) Swap(a + i, pb - r + i);
    r = std::min(pd - pc, pn - pd - 1);
    for (std::ptrdiff_t i = 0; i < r; i++) Swap(pb + i, pn - r + i);
    if ((r = pb - pa) > 1 && !Outside(first, r, lo, hi)) Sort(base, first, r, cmp, lo, hi);
    if ((r = pd - pc) <= 1) return;
    // The last part is sorted by iterating rather than recursing, as Redis does.
    first = (pn - r) - base;
    n = r;
    if (Outside(first, n, lo, hi)) return;
  }
}

}  // namespace pqsort_detail

// Redis' pqsort(a, n, es, cmp, lrange, rrange): afterwards a[lrange..rrange] (inclusive)
// hold the elements a full sort would put there, in Redis' order for equal ones.
template <typename T, typename Cmp>
void PartialQuickSort(T* a, std::size_t n, Cmp cmp, std::ptrdiff_t lrange,
                      std::ptrdiff_t rrange) {
  pqsort_detail::Sort(a, 0, static_cast<std::ptrdiff_t>(n), cmp, lrange, rrange);
}

}  // namespace ferrite::sdk
