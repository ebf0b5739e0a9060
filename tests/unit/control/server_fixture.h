// A UapiServer on a real Unix socket in a private temporary directory, its
// io_context running on a background thread (as the device's event loop
// would). Device access from the test goes through on_io(), so the fake
// device is only ever touched on the io thread, as the contract requires.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio.hpp>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>

#include "control/uapi_server.h"
#include "fake_device.h"

namespace wgp::testing {

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wgp-control-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ / "run";  // not there yet: the server creates it
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    on_io([this] { server_.reset(); });
    work_.reset();
    io_.stop();
    thread_.join();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  // Runs `fn` on the io thread and waits for it (5 s at most).
  template <typename Fn>
  auto on_io(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      ADD_FAILURE() << "io thread did not answer";
      std::abort();
    }
    return result.get();
  }

  void start_server(const std::string& name = "wgtest0") {
    on_io([&] { server_ = std::make_unique<control::UapiServer>(io_, name, device_, dir_); });
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(io_)};
  std::thread thread_;
  std::filesystem::path root_;
  std::filesystem::path dir_;
  FakeDevice device_;
  std::unique_ptr<control::UapiServer> server_;
};

}  // namespace wgp::testing
