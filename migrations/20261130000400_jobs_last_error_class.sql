-- What the public may know of a job's last failure ("unreachable", "HTTP 4xx", …); last_error
-- keeps the detail for management views.
ALTER TABLE jobs ADD COLUMN last_error_class text;
UPDATE jobs SET last_error_class = 'failed' WHERE last_error IS NOT NULL;
