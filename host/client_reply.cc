#include "host/client_reply.h"

#include <cstddef>
#include <cstdlib>
#include <string>

namespace ferrite::host {

void MutedSink::ElementDone() {
  if (open_.empty()) return;  // a reply let through after CLIENT REPLY ON
  --open_.back();
  while (!open_.empty() && open_.back() == 0) {
    open_.pop_back();
    if (!open_.empty()) --open_.back();  // the aggregate just closed was one element
  }
}

void MutedSink::OpenIfInside(size_t elements) {
  if (!open_.empty()) Open(elements);  // outside a push nothing needs counting
}

void MutedSink::Open(size_t elements) {
  if (elements == 0) ElementDone();  // an empty aggregate is one whole element
  else open_.push_back(elements);
}

// clang-format off
const ferrite_reply_sink MutedSink::kSink = {
    sizeof(ferrite_reply_sink),
    [](void* st, const char* s, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->simple(m->st_, s, n); m->ElementDone(); },
    [](void* st, ferrite_error_code code, const char* s, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->error(m->st_, code, s, n); m->ElementDone(); },
    [](void* st, int64_t v) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->integer(m->st_, v); m->ElementDone(); },
    [](void* st, double v) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->dbl(m->st_, v); m->ElementDone(); },
    [](void* st, const char* s, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->bulk(m->st_, s, n); m->ElementDone(); },
    [](void* st) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->null(m->st_); m->ElementDone(); },
    [](void* st) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->null_array(m->st_); m->ElementDone(); },
    [](void* st, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->array(m->st_, n); m->OpenIfInside(n); },
    [](void* st, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->map(m->st_, n); m->OpenIfInside(2 * n); },
    [](void* st, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->set(m->st_, n); m->OpenIfInside(n); },
    // A push goes out whether or not replies are on, with everything inside it.
    [](void* st, size_t n) {
      auto* m = Of(st);
      m->real_->push(m->st_, n);
      if (m->Passing()) m->Open(n);
      else if (n > 0) m->open_.push_back(n); },
    [](void* st, int v) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->boolean(m->st_, v); m->ElementDone(); },
    [](void* st, const char* fmt, const char* s, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->verbatim(m->st_, fmt, s, n); m->ElementDone(); },
    [](void* st, const char* s, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->bignum(m->st_, s, n); m->ElementDone(); },
    // An attribute annotates the element after it: its pairs are tokens of their own.
    [](void* st, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      m->real_->attribute(m->st_, n); m->OpenIfInside(2 * n + 1); },
    [](void* st, const char* s, size_t n) {
      auto* m = Of(st); if (!m->Passing()) return;
      if (m->real_->struct_size > offsetof(ferrite_reply_sink, double_text) &&
          m->real_->double_text)
        m->real_->double_text(m->st_, s, n);
      else
        m->real_->dbl(m->st_, std::strtod(std::string(s, n).c_str(), nullptr));
      m->ElementDone(); },
};
// clang-format on

}  // namespace ferrite::host
