DROP TABLE edpipe_day_spans;
