// Connection plumbing without a server: what messages show of a connection string, and which
// SQLSTATEs are worth a retry.
#include <gtest/gtest.h>

#include "load/pg_connection.h"

namespace edpipe::load {
namespace {

TEST(Connection, PasswordsAreMasked) {
  EXPECT_EQ(mask_password("postgresql://u:pw@h:5432/db"), "postgresql://u:****@h:5432/db");
  EXPECT_EQ(mask_password("host=h password=pw dbname=d"), "host=h password=**** dbname=d");
  EXPECT_EQ(mask_password("host=h password = 'p w' dbname=d"), "host=h password = **** dbname=d");
  EXPECT_EQ(mask_secrets("missing \"=\" after \"pw\" in connection info string", "host=h password=pw"),
            "missing \"=\" after \"****\" in connection info string");
  // Only the password fields: a password that is also a word of the message leaves it readable.
  EXPECT_EQ(mask_secrets("cannot connect to postgresql://postgres:1@127.0.0.1:5432/obs: port 5432 refused",
                         "postgresql://postgres:1@127.0.0.1:5432/obs"),
            "cannot connect to postgresql://postgres:****@127.0.0.1:5432/obs: port 5432 refused");
  EXPECT_EQ(mask_secrets("FATAL: password authentication failed for user \"bob\" (postgresql://bob:bob@h/bob)",
                         "postgresql://bob:bob@h/bob"),
            "FATAL: password authentication failed for user \"bob\" (postgresql://bob:****@h/bob)");
  EXPECT_EQ(mask_password("user=bob password=bob dbname=bob"), "user=bob password=**** dbname=bob");
  EXPECT_TRUE(is_transient("40P01"));
  EXPECT_TRUE(is_transient("08006"));
  EXPECT_FALSE(is_transient("22P02"));
}

}  // namespace
// Citus's node failures, as the coordinator reports them (the texts are Citus 13.2's): passing
// faults, and only the coordinator's own death ends our session. A data error with the same
// context is not one.
TEST(Connection, CitusNodeFailuresArePassingFaults) {
  auto fault = [](const char* state, const std::string& message) { return pqxx::sql_error(message, "COPY invocations", state); };
  const std::string on_worker = "\nCONTEXT:  while executing command on localhost:38063\n";
  EXPECT_TRUE(is_passing_fault(fault("08006", "connection to the remote node postgres@localhost:1 failed")));
  EXPECT_FALSE(is_connection_loss(fault("08006", "connection to the remote node postgres@localhost:1 failed")));
  EXPECT_TRUE(is_passing_fault(fault("58030", "failed to COPY to shard 102032 on localhost:41963")));
  EXPECT_TRUE(is_passing_fault(fault("XX000", "ERROR:  SSL SYSCALL error: EOF detected" + on_worker)));
  EXPECT_TRUE(is_passing_fault(fault("XX000", "ERROR:  server closed the connection unexpectedly" + on_worker)));
  EXPECT_FALSE(is_connection_loss(fault("XX000", "ERROR:  SSL SYSCALL error: EOF detected" + on_worker)));
  EXPECT_TRUE(is_passing_fault(fault("XX000", "ERROR:  failure on connection marked as essential: localhost:38063")));
  EXPECT_TRUE(is_passing_fault(fault("XX000", "ERROR:  postmaster was shut down, exiting")));
  EXPECT_TRUE(is_connection_loss(fault("XX000", "ERROR:  postmaster was shut down, exiting")));
  EXPECT_FALSE(is_passing_fault(fault("XX000", "ERROR:  SSL SYSCALL error: EOF detected")));  // not Citus's
  EXPECT_FALSE(is_passing_fault(fault("22P02", "invalid input syntax for type uuid" + on_worker)));
  EXPECT_FALSE(is_passing_fault(fault("XX000", "ERROR:  could not open relation" + on_worker)));
}

}  // namespace edpipe::load
