#include "connectors/write_queue.hpp"

#include <gtest/gtest.h>

namespace shouhou::connectors {
namespace {

TEST(WriteQueue, RefusesPastTheFrameLimit) {
  write_queue q(2, 1000);
  EXPECT_TRUE(q.push("a"));
  EXPECT_TRUE(q.push("b"));
  EXPECT_FALSE(q.push("c"));
  EXPECT_EQ(q.size(), 2u);
}

TEST(WriteQueue, RefusesPastTheByteLimitAndCountsBytes) {
  write_queue q(100, 10);
  EXPECT_TRUE(q.push("12345"));
  EXPECT_TRUE(q.push("12345"));
  EXPECT_FALSE(q.push("1"));
  EXPECT_EQ(q.bytes(), 10u);
  q.pop();
  EXPECT_EQ(q.bytes(), 5u);
  EXPECT_TRUE(q.push("1"));
}

TEST(WriteQueue, DropAllButFrontKeepsTheFrameBeingWritten) {
  write_queue q(10, 100);
  q.push("first");
  q.push("second");
  q.push("third");
  q.drop_all_but_front();
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front(), "first");
  EXPECT_EQ(q.bytes(), 5u);
}

}  // namespace
}  // namespace shouhou::connectors
