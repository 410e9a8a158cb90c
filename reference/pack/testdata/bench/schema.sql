CREATE TABLE customers (
    id         bigint      PRIMARY KEY,
    name       text        NOT NULL,
    country    text        NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE orders (
    id          bigint        PRIMARY KEY,
    customer_id bigint        NOT NULL REFERENCES customers,
    status      text          NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    total       numeric(10,2) NOT NULL,
    created_at  timestamptz   NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, created_at DESC);
