-- The records store on PostgreSQL: the unit registry, the document ledger and
-- the daily counts reports read (see src/records/store.rs for the rules that
-- fill them). The SQLite schema in migrations/sqlite/ holds the same tables
-- and columns; only the dialect differs.
--
-- Instants are unix microseconds; `day` is a Vietnam (UTC+7) date as days
-- since 1970-01-01. Key columns use the "C" collation so that keys sort by
-- their bytes, as on SQLite and in Rust, whatever the database's locale: the
-- keyset-paged export depends on one order everywhere.

CREATE TABLE units (
    code TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune')),
    unit_group TEXT NOT NULL
        CHECK (unit_group IN ('province_office', 'department', 'district', 'commune')),
    parent TEXT COLLATE "C" NULL REFERENCES units (code),
    -- Registry order.
    position BIGINT NOT NULL
);

CREATE TABLE leaders (
    unit_code TEXT COLLATE "C" NOT NULL REFERENCES units (code),
    leader_id TEXT COLLATE "C" NOT NULL,
    full_name TEXT NOT NULL,
    -- Order within the unit.
    position BIGINT NOT NULL,
    PRIMARY KEY (unit_code, leader_id)
);

CREATE TABLE documents (
    unit_code TEXT COLLATE "C" NOT NULL REFERENCES units (code),
    direction TEXT COLLATE "C" NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
    document_id TEXT COLLATE "C" NOT NULL,
    day BIGINT NOT NULL,
    first_recorded_at BIGINT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('electronic', 'paper')),
    organisation_signed_at BIGINT NULL,
    organisation_certificate TEXT NULL,
    leader_signed_at BIGINT NULL,
    leader_id TEXT NULL,
    leader_certificate TEXT NULL,
    verdict TEXT NULL CHECK (verdict IN ('total_passed', 'total_failed', 'indeterminate')),
    verified_at BIGINT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (unit_code, direction, document_id),
    CHECK ((organisation_signed_at IS NULL) = (organisation_certificate IS NULL)),
    CHECK ((leader_signed_at IS NULL) = (leader_certificate IS NULL)),
    CHECK (leader_signed_at IS NOT NULL OR leader_id IS NULL),
    CHECK ((verdict IS NULL) = (verified_at IS NULL)),
    CHECK (direction = 'outgoing'
        OR (organisation_signed_at IS NULL AND leader_signed_at IS NULL))
);

-- Exports of a period read pages in this order; the recount of the
-- aggregates reads by day.
CREATE INDEX documents_by_day ON documents (day, unit_code, direction, document_id);

-- Per unit and day, the sum of every entry's contribution; reports add up a
-- month of these rows instead of reading the ledger.
CREATE TABLE daily_counts (
    unit_code TEXT COLLATE "C" NOT NULL REFERENCES units (code),
    day BIGINT NOT NULL,
    incoming_total BIGINT NOT NULL DEFAULT 0,
    incoming_electronic BIGINT NOT NULL DEFAULT 0,
    outgoing_total BIGINT NOT NULL DEFAULT 0,
    outgoing_electronic BIGINT NOT NULL DEFAULT 0,
    organisation_signed BIGINT NOT NULL DEFAULT 0,
    leader_signed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, unit_code)
);
