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
}  // namespace edpipe::load
