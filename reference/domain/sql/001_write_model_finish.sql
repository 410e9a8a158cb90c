-- 001_write_model_finish: keys, indexes and foreign keys of the write model,
-- added once the tables are loaded (building an index over loaded rows is
-- several times faster than maintaining it row by row during COPY).
--
-- The file is split into stages by "-- stage: NAME" lines and run stage by
-- stage. Statements of a stage marked "(concurrent)" touch the database in
-- ways that do not conflict, so a loader may run them on separate
-- connections at once; every statement ends with ";" at the end of a line.
-- Each stage also runs correctly statement by statement on one connection
-- (FinishWriteModel does that). :"schema" and :'schema' are substituted as
-- in 001_write_model.sql.

-- stage: indexes (concurrent)
-- CREATE INDEX takes a SHARE lock, which does not conflict with itself: all
-- indexes, including the ones that become primary keys and unique
-- constraints in the next stage, can be built at the same time.
CREATE UNIQUE INDEX order_lines_pkey ON :"schema".order_lines (order_id, line_no);
CREATE UNIQUE INDEX orders_pkey ON :"schema".orders (id);
-- list_orders: a customer's latest orders, newest first, ties broken by id;
-- serves WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT 50
-- with no sort.
CREATE INDEX orders_customer_id_created_at_idx ON :"schema".orders (customer_id, created_at DESC, id DESC);
-- sales_dashboard: today's orders are one contiguous range of this index
-- (and, ids growing with time, of few heap pages). Not partial: "today"
-- moves, an index predicate cannot. status is deliberately not INCLUDEd:
-- status changes are the most frequent update of orders, and an indexed
-- status would make each of them a non-HOT update writing to every index.
CREATE INDEX orders_created_at_idx ON :"schema".orders (created_at);
CREATE UNIQUE INDEX orders_number_key ON :"schema".orders (number);
CREATE UNIQUE INDEX customers_pkey ON :"schema".customers (id);
CREATE UNIQUE INDEX customers_email_key ON :"schema".customers (email);
CREATE UNIQUE INDEX addresses_pkey ON :"schema".addresses (id);
CREATE INDEX addresses_customer_id_idx ON :"schema".addresses (customer_id);
CREATE UNIQUE INDEX products_pkey ON :"schema".products (id);
CREATE UNIQUE INDEX products_sku_key ON :"schema".products (sku);
CREATE UNIQUE INDEX product_images_pkey ON :"schema".product_images (id);
-- Also serves list_orders' "first image of a product" (ORDER BY position
-- LIMIT 1).
CREATE UNIQUE INDEX product_images_product_id_position_key ON :"schema".product_images (product_id, position);
CREATE UNIQUE INDEX status_labels_pkey ON :"schema".status_labels (status);
-- Not indexed on purpose: order_lines.product_id, orders.shipping_address_id
-- and orders.status. No query looks rows up by them and products, addresses
-- and labels are never deleted, so the indexes would only cost writes.

-- stage: keys
-- Attach the unique indexes as constraints: no scan, the key columns are
-- already NOT NULL.
ALTER TABLE :"schema".order_lines ADD CONSTRAINT order_lines_pkey PRIMARY KEY USING INDEX order_lines_pkey;
ALTER TABLE :"schema".orders ADD CONSTRAINT orders_pkey PRIMARY KEY USING INDEX orders_pkey,
    ADD CONSTRAINT orders_number_key UNIQUE USING INDEX orders_number_key;
ALTER TABLE :"schema".customers ADD CONSTRAINT customers_pkey PRIMARY KEY USING INDEX customers_pkey,
    ADD CONSTRAINT customers_email_key UNIQUE USING INDEX customers_email_key;
ALTER TABLE :"schema".addresses ADD CONSTRAINT addresses_pkey PRIMARY KEY USING INDEX addresses_pkey;
ALTER TABLE :"schema".products ADD CONSTRAINT products_pkey PRIMARY KEY USING INDEX products_pkey,
    ADD CONSTRAINT products_sku_key UNIQUE USING INDEX products_sku_key;
ALTER TABLE :"schema".product_images ADD CONSTRAINT product_images_pkey PRIMARY KEY USING INDEX product_images_pkey,
    ADD CONSTRAINT product_images_product_id_position_key UNIQUE USING INDEX product_images_product_id_position_key;
ALTER TABLE :"schema".status_labels ADD CONSTRAINT status_labels_pkey PRIMARY KEY USING INDEX status_labels_pkey;

-- stage: analyze (concurrent)
-- Statistics before anything plans a query over the loaded tables (the
-- foreign key checks below included).
ANALYZE :"schema".order_lines;
ANALYZE :"schema".orders;
ANALYZE :"schema".customers;
ANALYZE :"schema".addresses;
ANALYZE :"schema".products;
ANALYZE :"schema".product_images;
ANALYZE :"schema".status_labels;

-- stage: foreign keys
-- Declared NOT VALID (no scan, brief locks) and validated in the next stage,
-- where validations of different tables do not block each other.
ALTER TABLE :"schema".order_lines
    ADD CONSTRAINT order_lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES :"schema".orders (id) NOT VALID,
    ADD CONSTRAINT order_lines_product_id_fkey FOREIGN KEY (product_id) REFERENCES :"schema".products (id) NOT VALID;
ALTER TABLE :"schema".orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES :"schema".customers (id) NOT VALID,
    ADD CONSTRAINT orders_shipping_address_id_fkey FOREIGN KEY (shipping_address_id) REFERENCES :"schema".addresses (id) NOT VALID,
    ADD CONSTRAINT orders_status_fkey FOREIGN KEY (status) REFERENCES :"schema".status_labels (status) NOT VALID;
ALTER TABLE :"schema".addresses
    ADD CONSTRAINT addresses_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES :"schema".customers (id) NOT VALID;
ALTER TABLE :"schema".product_images
    ADD CONSTRAINT product_images_product_id_fkey FOREIGN KEY (product_id) REFERENCES :"schema".products (id) NOT VALID;

-- stage: validate (concurrent)
-- VALIDATE takes SHARE UPDATE EXCLUSIVE on the referencing table only, so
-- one statement per referencing table runs concurrently with the others.
ALTER TABLE :"schema".order_lines VALIDATE CONSTRAINT order_lines_order_id_fkey,
    VALIDATE CONSTRAINT order_lines_product_id_fkey;
ALTER TABLE :"schema".orders VALIDATE CONSTRAINT orders_customer_id_fkey,
    VALIDATE CONSTRAINT orders_shipping_address_id_fkey,
    VALIDATE CONSTRAINT orders_status_fkey;
ALTER TABLE :"schema".addresses VALIDATE CONSTRAINT addresses_customer_id_fkey;
ALTER TABLE :"schema".product_images VALIDATE CONSTRAINT product_images_product_id_fkey;

-- stage: sequences
-- Rows were loaded with explicit ids: move each identity sequence past the
-- largest one so that later INSERTs without an id succeed.
SELECT setval(pg_get_serial_sequence(:'schema' || '.customers', 'id'), coalesce(max(id), 0) + 1, false) FROM :"schema".customers;
SELECT setval(pg_get_serial_sequence(:'schema' || '.addresses', 'id'), coalesce(max(id), 0) + 1, false) FROM :"schema".addresses;
SELECT setval(pg_get_serial_sequence(:'schema' || '.products', 'id'), coalesce(max(id), 0) + 1, false) FROM :"schema".products;
SELECT setval(pg_get_serial_sequence(:'schema' || '.product_images', 'id'), coalesce(max(id), 0) + 1, false) FROM :"schema".product_images;
SELECT setval(pg_get_serial_sequence(:'schema' || '.orders', 'id'), coalesce(max(id), 0) + 1, false) FROM :"schema".orders;
