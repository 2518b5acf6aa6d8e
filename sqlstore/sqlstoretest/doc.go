// Package sqlstoretest opens isolated, migrated sqlstore stores for tests.
//
// PostgreSQL stores come from TEST_DATABASE_URL (for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable): each call creates
// a schema with a random name, connects with search_path set to it, migrates
// it and drops it when the test ends. Without TEST_DATABASE_URL the test is
// skipped, unless the CI environment variable is set: then it fails, so CI
// never passes by skipping. SQLite stores are files in the test's temporary
// directory.
package sqlstoretest
