-- The widget kinds table, bar, image and clock (README's value table).
ALTER TABLE widgets DROP CONSTRAINT widgets_kind_check;
ALTER TABLE widgets ADD CONSTRAINT widgets_kind_check
    CHECK (kind IN ('number', 'gauge', 'line', 'text', 'list', 'status', 'table', 'bar', 'image', 'clock'));
