#include "transports/partner/stream.hpp"

#include <boost/asio/write.hpp>

namespace tandem::partner {

tcp_stream::tcp_stream(boost::asio::ip::tcp::socket s) : socket_(std::move(s)) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    host_ = ep.address().to_string();
    port_ = ep.port();
  }
  // Heartbeats are small and latency matters more than packet count.
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
}

void tcp_stream::async_read_some(boost::asio::mutable_buffer buf, handler h) {
  socket_.async_read_some(buf, std::move(h));
}

void tcp_stream::async_write(boost::asio::const_buffer buf, handler h) {
  boost::asio::async_write(socket_, buf, std::move(h));
}

void tcp_stream::close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

} // namespace tandem::partner
