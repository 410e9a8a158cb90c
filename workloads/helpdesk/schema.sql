-- The write model of a support desk. Table names carry no schema: the
-- loader runs this file with search_path set to the benchmark's schema.

CREATE TABLE teams (
    id   bigint PRIMARY KEY,
    name text   NOT NULL UNIQUE
);

CREATE TABLE agents (
    id      bigint  PRIMARY KEY,
    team_id bigint  NOT NULL REFERENCES teams,
    name    text    NOT NULL,
    email   text    NOT NULL UNIQUE,
    active  boolean NOT NULL DEFAULT true
);
CREATE INDEX agents_team ON agents (team_id);

CREATE TABLE customers (
    id         bigint      PRIMARY KEY,
    name       text        NOT NULL,
    email      text        NOT NULL UNIQUE,
    plan       text        NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    created_at timestamptz NOT NULL
);

CREATE TABLE tickets (
    id          bigint       PRIMARY KEY,
    customer_id bigint       NOT NULL REFERENCES customers,
    team_id     bigint       NOT NULL REFERENCES teams,
    assignee_id bigint       REFERENCES agents,
    subject     varchar(120) NOT NULL,
    status      text         NOT NULL CHECK (status IN ('open', 'pending', 'solved', 'closed')),
    priority    smallint     NOT NULL CHECK (priority BETWEEN 1 AND 4),
    created_at  timestamptz  NOT NULL,
    updated_at  timestamptz  NOT NULL,
    CONSTRAINT tickets_updated_after_created CHECK (updated_at >= created_at)
);
CREATE INDEX tickets_customer ON tickets (customer_id, created_at DESC);
CREATE INDEX tickets_assignee_status ON tickets (assignee_id, status);

CREATE TABLE comments (
    id              bigint      PRIMARY KEY,
    ticket_id       bigint      NOT NULL REFERENCES tickets ON DELETE CASCADE,
    author_agent_id bigint      REFERENCES agents,
    body            text        NOT NULL,
    public          boolean     NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX comments_ticket ON comments (ticket_id, created_at);

CREATE TABLE tags (
    id   bigint PRIMARY KEY,
    name text   NOT NULL UNIQUE
);

CREATE TABLE ticket_tags (
    ticket_id bigint NOT NULL REFERENCES tickets ON DELETE CASCADE,
    tag_id    bigint NOT NULL REFERENCES tags,
    PRIMARY KEY (ticket_id, tag_id)
);
CREATE INDEX ticket_tags_tag ON ticket_tags (tag_id);
