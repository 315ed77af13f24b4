-- The bridge test worker's table: rows that concurrent requests write and count,
-- and a table of every type D1 carries.
CREATE TABLE hits (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, who TEXT NOT NULL);
CREATE TABLE kinds (id INTEGER PRIMARY KEY, i INTEGER, f REAL, t TEXT, b BLOB, n INTEGER);
