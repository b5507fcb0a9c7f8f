#include "models/policies/big_chain.hpp"

namespace vringsim {

ChainShape max_buffer_shape(bool recycle_pages, uint32_t header_bytes) {
  constexpr uint32_t kMaxSkbFrags2008 = 65536 / kPageBytes + 2;
  ChainShape s;
  s.header_bytes = header_bytes;
  s.data_bytes = kMaxSkbFrags2008 * kPageBytes;
  s.recycle_pages = recycle_pages;
  return s;
}

Bindings<ChainShape> BigChainPolicy::recycle_binding() {
  return Bindings<ChainShape>{}.bind(
      &ChainShape::recycle_pages,
      ParamSpec::boolean("recycle_pages", true)
          .help("keep pages a frame did not fill on the driver's private list and post them again "
                "(give_a_page/get_a_page) instead of freeing and reallocating them")
          .from("on in 2008: Linux commit fb6813f48080 'virtio: Recycle unused recv buffer pages for large skbs'"));
}

std::vector<uint32_t> BigChainPolicy::nominal_posting() const {
  std::vector<uint32_t> lens;
  if (shape_.header_in_data) {
    lens.push_back(shape_.header_bytes + shape_.linear_bytes);
  } else {
    lens.push_back(shape_.header_bytes);
    lens.push_back(shape_.linear_bytes);
  }
  uint32_t left = shape_.data_bytes;
  for (uint32_t i = 0; i < chunk_count(); ++i) {
    lens.push_back(std::min(left, chunk_bytes()));
    left -= std::min(left, chunk_bytes());
  }
  return lens;
}

void BigChainPolicy::put_block(const MemoryBlock& b, GuestMemory& mem, GuestWork& work) {
  if (b.slab) return;  // skb data goes with the skb (per-packet cost)
  if (b.order == 0) {
    pages_.give(b.addr, mem, work);  // freed if pages are not recycled
  } else {
    mem.free_pages(b.addr, b.order);
    ++work.page_frees;
  }
}

std::optional<Posting> BigChainPolicy::make_posting(GuestMemory& mem, GuestWork& work) {
  Posting p = fresh_posting();
  // Sized once: grown one push at a time, a 20-descriptor chain cost 12
  // allocations (a third of max-buffer's run time went to malloc and free).
  p.segs.reserve(2 + chunk_count());
  p.blocks.reserve(1 + chunk_count());
  // Header and linear part live in the skb (2.6.27 add_recvbuf: the header
  // in skb->cb, the data in an skb of MAX_PACKET_LEN).
  if (shape_.header_in_data) {
    const uint32_t len = shape_.header_bytes + shape_.linear_bytes;
    p.segs.push_back({mem.alloc_slab(len), len});
  } else {
    p.segs.push_back({mem.alloc_slab(shape_.header_bytes), shape_.header_bytes});
    p.segs.push_back({mem.alloc_slab(shape_.linear_bytes), shape_.linear_bytes});
  }
  p.blocks.push_back({p.segs.back().addr, 0, true});
  uint32_t left = shape_.data_bytes;
  auto abandon = [&]() -> std::optional<Posting> {
    release(std::move(p), mem, work);
    return std::nullopt;
  };
  // Read once: the pushes below may alias the shape for the compiler, which
  // then divided for chunk_count() on every one of max-buffer's 18 chunks.
  const uint32_t chunks = chunk_count(), chunk = chunk_bytes(), order = shape_.chunk_order;
  if (order == 0) {
    // A page a chunk, written in place (a push of each segment and each
    // block was half of max-buffer's posting).
    const size_t first_seg = p.segs.size(), first_block = p.blocks.size();
    BufferSeg* seg = p.segs.extend(chunks);
    MemoryBlock* blk = p.blocks.extend(chunks);
    // Recycled pages, when the list holds enough, taken as one run (in the
    // order take() gives them: the same addresses in the same descriptors).
    uint64_t run[kMaxRunPages];
    const bool from_list = chunks <= kMaxRunPages && pages_.take_run(run, chunks, work);
    for (uint32_t k = 0; k < chunks; ++k) {
      const uint32_t len = std::min(left, chunk);
      left -= len;
      std::optional<uint64_t> a;
      if (from_list)
        a = run[k];
      else
        a = pages_.take(mem, work);
      if (!a) {
        p.segs.truncate(first_seg + k);
        p.blocks.truncate(first_block + k);
        return abandon();
      }
      seg[k] = {*a, len};
      blk[k] = {*a, 0, false};
    }
  } else {
    for (uint32_t i = 0; i < chunks; ++i) {
      const uint32_t want = std::min(left, chunk);
      left -= want;
      ++work.page_allocs;
      if (auto a = mem.alloc_pages(order, shape_.order_failure_prob)) {
        p.segs.push_back({*a, want});
        p.blocks.push_back({*a, order, false});
        continue;
      }
      // Fragmented memory: build this chunk from order-0 pages, one
      // descriptor each (a longer chain).
      for (uint32_t got = 0; got < want; got += kPageBytes) {
        auto a = pages_.take(mem, work);
        if (!a) return abandon();
        const uint32_t len = std::min(kPageBytes, want - got);
        p.segs.push_back({*a, len});
        p.blocks.push_back({*a, 0, false});
      }
    }
  }
  // Every chunk was covered in full (by one block, or by pages when a
  // higher order failed): the shape's bytes.
  p.bytes = shape_.header_bytes + shape_.linear_bytes + shape_.data_bytes;
  return p;
}

void BigChainPolicy::release(Posting&& posting, GuestMemory& mem, GuestWork& work) {
  for (const auto& b : posting.blocks) put_block(b, mem, work);
  posting.blocks.clear();
}

void BigChainPolicy::receive(std::span<const ReturnedBuffer> bufs, uint32_t /*frame_len*/, GuestMemory& mem,
                             GuestWork& work) {
  // One chain per frame. The device wrote `written` bytes from the start of
  // the chain; page blocks it reached go up the stack with the skb (and are
  // freed there), the rest go back (2.6.27 receive_skb + trim_pages).
  const bool pages_only = shape_.chunk_order == 0;
  const size_t first_page = shape_.header_in_data ? 1 : 2;  // the buffers before are the skb's
  for (const ReturnedBuffer& rb : bufs) {
    Posting& p = *rb.posting;
    const BufferSeg* seg = p.segs.data();
    const MemoryBlock* blk = p.blocks.data();
    const size_t segs = p.segs.size(), blocks = p.blocks.size();
    uint64_t offset = 0;
    size_t s = 0, b = 0;
    for (; s < segs && offset < rb.written; ++s) {  // reached: up the stack with the skb
      offset += seg[s].len;
      if (b < blocks && blk[b].addr == seg[s].addr) {
        const MemoryBlock& m = blk[b++];
        if (m.slab) continue;
        mem.free_pages(m.addr, m.order);  // freed by the stack with the skb
        ++work.page_frees;
      }
    }
    // Not reached: back to the driver. Page blocks one to a buffer go back
    // together (one by one, the list's and the counter's updates cost more
    // than the rest of the walk).
    while (s < segs) {
      if (pages_only && s >= first_page && blocks - b == segs - s) {
        // An order-0 chain past its skb part: buffer k's block is block k,
        // a page each (make_posting built it so): all back in one run.
        pages_.give_blocks(blk + b, segs - s, mem, work);
        break;
      }
      size_t run = 0;
      while (s + run < segs && b + run < blocks && blk[b + run].addr == seg[s + run].addr &&
             blk[b + run].order == 0 && !blk[b + run].slab)
        ++run;
      if (run > 0) {
        pages_.give_blocks(blk + b, run, mem, work);
        s += run;
        b += run;
        continue;
      }
      if (b < blocks && blk[b].addr == seg[s].addr) put_block(blk[b++], mem, work);
      ++s;
    }
    p.blocks.clear();
  }
}

}  // namespace vringsim
