// A blocking TCP connection with a read buffer, for ferrite-migrate's request/reply
// pipelines. Every read and write is bounded by the connection's timeout; a closed,
// reset or silent peer throws ConnError, which the importer turns into a partial
// report and exit status 1 (the import cannot go on without its source or target, so
// the error unwinds the whole batch rather than travelling as a value through it).
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ferrite::migrate {

struct ConnError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Conn {
 public:
  // Connects to host:port (a name or an address) within `timeout`; throws ConnError.
  Conn(std::string name, const std::string& host, int port, std::chrono::milliseconds timeout);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void Send(std::string_view bytes);
  // The next line without its "\r\n" (or a bare "\n", as metadump ends its lines);
  // valid until the next read.
  std::string_view ReadLine();
  // The next n bytes followed by "\r\n"; valid until the next read.
  std::string_view ReadBlock(size_t n);
  void SetTimeout(std::chrono::milliseconds timeout);

 private:
  void Fill();
  void Compact();

  std::string name_;
  int fd_ = -1;
  std::string buf_;
  size_t start_ = 0;  // first unread byte of buf_
};

// "host:port" -> {host, port}; "[v6]:port" too. Throws std::invalid_argument.
std::pair<std::string, int> SplitHostPort(std::string_view s);

}  // namespace ferrite::migrate
