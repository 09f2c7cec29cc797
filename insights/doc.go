// Package insights is keel's CloudWatch Logs Insights engine: it compiles
// a query string (Parse) and runs it over log events fed to it (Exec),
// giving rows of {field, value} strings as GetQueryResults does. It knows
// nothing of HTTP, the store or AWS's wire format: package logserver feeds
// it events read from the store's segments and serves the API.
//
// The language: commands fields, display, filter, stats, sort, limit,
// parse, dedup and unmask, joined by | in any order and repeated;
// expressions with arithmetic (+ - * / % ^), comparisons, and/or/not,
// in [...], like "text", like /regex/, =~ /regex/ and the functions of
// funcs.go; aggregates count, count_distinct, sum, avg, min, max, pct,
// stddev, earliest, latest, sortsFirst, sortsLast, with stats ... by
// several expressions and bin(); a stats may follow another.
//
// What the service documents, and this package does:
//   - a string that looks like a number compares and computes as a number;
//   - an aggregate skips rows where its field is missing;
//   - the results are at most 10,000 rows, the default limit;
//   - JSON messages give fields, nested objects flattened with dots (a.b.c)
//     and arrays by index (a.0), at most 200 fields per event;
//   - sort is natural: non-number values before numbers, digit runs by
//     length then value;
//   - @timestamp and @ingestionTime show as "2006-01-02 15:04:05.000" (UTC).
//
// Where the documentation is silent, decisions (each tested):
//   - Default order: with no sort and no stats, rows come newest first, and
//     a limit or dedup that no sort or stats precedes applies to that order
//     (as if `sort @timestamp desc` came before it).
//   - sort without asc or desc is ascending; missing values sort last.
//   - Output columns: the fields named by fields commands and created by
//     parse, in order; with none, @timestamp, @message, @logStream and @log;
//     after stats, its by fields then its aggregates; the last display
//     replaces all of these. A raw row also carries @ptr. A field missing in
//     a row is left out of that row, as the service does.
//   - stats rows come ordered by their by values, ascending (a timeline
//     reads forward); a stats without by over no rows gives one row
//     (count 0).
//   - pct is exact (nearest rank) up to 1,000 values per group, 8 bytes a
//     value; past that a logarithmic-bucket sketch answers within 1% of the
//     true value in bounded memory (one bucket per 2% step of the values'
//     range, ~700 for values from 1 to 1e6, however many values). stddev
//     is the sample deviation (n-1).
//   - count_distinct counts exactly up to 100,000 values per group, then
//     stops growing (a lower bound); one stats holds at most 1,000,000 groups.
//   - A sort with nothing limiting it afterwards holds at most 1,000,000
//     rows, then the query fails, naming the fix.
//   - true and false in JSON are the strings "true" and "false"; JSON null
//     is a missing field; a message that is not a JSON object has no
//     discovered fields.
//   - Division by zero, and arithmetic on a missing or non-numeric value,
//     give a missing value, which comparisons treat as false.
//   - Error locations (queryCompileError): Start and End are byte offsets
//     into the query, End exclusive; Line is 1-based.
package insights
