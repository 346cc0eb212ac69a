-- The records store on SQLite: the unit registry, the document ledger and the
-- daily counts reports read (see src/records/store.rs for the rules that fill
-- them). The PostgreSQL schema in migrations/postgres/ holds the same tables
-- and columns; only the dialect differs.
--
-- Instants are unix microseconds; `day` is a Vietnam (UTC+7) date as days
-- since 1970-01-01. STRICT makes SQLite refuse a value of the wrong type;
-- WITHOUT ROWID stores each row in its primary-key b-tree, the order lookups
-- and exports read it in.

CREATE TABLE units (
    code TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune')),
    unit_group TEXT NOT NULL
        CHECK (unit_group IN ('province_office', 'department', 'district', 'commune')),
    parent TEXT NULL REFERENCES units (code),
    -- Registry order.
    position INTEGER NOT NULL
) STRICT;

CREATE TABLE leaders (
    unit_code TEXT NOT NULL REFERENCES units (code),
    leader_id TEXT NOT NULL,
    full_name TEXT NOT NULL,
    -- Order within the unit.
    position INTEGER NOT NULL,
    PRIMARY KEY (unit_code, leader_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE documents (
    unit_code TEXT NOT NULL REFERENCES units (code),
    direction TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
    document_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    first_recorded_at INTEGER NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('electronic', 'paper')),
    organisation_signed_at INTEGER NULL,
    organisation_certificate TEXT NULL,
    leader_signed_at INTEGER NULL,
    leader_id TEXT NULL,
    leader_certificate TEXT NULL,
    verdict TEXT NULL CHECK (verdict IN ('total_passed', 'total_failed', 'indeterminate')),
    verified_at INTEGER NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (unit_code, direction, document_id),
    CHECK ((organisation_signed_at IS NULL) = (organisation_certificate IS NULL)),
    CHECK ((leader_signed_at IS NULL) = (leader_certificate IS NULL)),
    CHECK (leader_signed_at IS NOT NULL OR leader_id IS NULL),
    CHECK ((verdict IS NULL) = (verified_at IS NULL)),
    CHECK (direction = 'outgoing'
        OR (organisation_signed_at IS NULL AND leader_signed_at IS NULL))
) STRICT, WITHOUT ROWID;

-- Exports of a period read pages in this order; the recount of the
-- aggregates reads by day.
CREATE INDEX documents_by_day ON documents (day, unit_code, direction, document_id);

-- Per unit and day, the sum of every entry's contribution; reports add up a
-- month of these rows instead of reading the ledger.
CREATE TABLE daily_counts (
    unit_code TEXT NOT NULL REFERENCES units (code),
    day INTEGER NOT NULL,
    incoming_total INTEGER NOT NULL DEFAULT 0,
    incoming_electronic INTEGER NOT NULL DEFAULT 0,
    outgoing_total INTEGER NOT NULL DEFAULT 0,
    outgoing_electronic INTEGER NOT NULL DEFAULT 0,
    organisation_signed INTEGER NOT NULL DEFAULT 0,
    leader_signed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, unit_code)
) STRICT, WITHOUT ROWID;
