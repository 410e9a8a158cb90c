// Package draft writes a draft workload pack from an existing database:
// cqrsbench init --from-db.
//
// Read takes one READ ONLY REPEATABLE READ snapshot of the source and
// reads its catalog (tables, columns, types, keys, foreign keys, checks,
// indexes, enums), its row counts, its planner statistics (pg_stats: NULL
// fraction, number of distinct values, most common values' frequencies,
// histogram bounds) and, where pg_stat_statements is installed, its most
// frequent statements. It never writes to the source.
//
// Plan turns the statistics into data generators shaped like the source
// without copying its text: labels v1, v2, ... with the most common
// values' weights, ranges and distributions fitted so that each column
// gets about as many distinct values and NULLs as the source's. Write
// renders the pack (workload.yaml and schema.sql) into a new directory,
// atomically; its commands, screens and read models are commented TODOs,
// so the draft loads (pack.Load) as a pack with data and no operations
// until they are filled in.
package draft
