-- The certificate register, the CRLs kyso's CAs published and the evidence of
-- each signature kyso made (see src/records/certificates.rs). The PostgreSQL
-- schema in migrations/postgres/ holds the same tables and columns.
--
-- Instants are unix microseconds. Binary values (certificates, CRLs) are
-- lower-case hex TEXT, so both engines store them with one SQL text; a chain
-- is its certificates' hex joined by commas, nearest issuer first.

CREATE TABLE certificates (
    -- SHA-256 of the DER, lower-case hex.
    fingerprint TEXT NOT NULL PRIMARY KEY,
    -- The kyso CA that issued it (e.g. 'issuing'); NULL when imported.
    issuer_ca TEXT NULL,
    -- Upper-case hex.
    serial TEXT NOT NULL,
    subject TEXT NOT NULL,
    unit_code TEXT NULL REFERENCES units (code),
    role_kind TEXT NOT NULL CHECK (role_kind IN ('organisation', 'leader', 'time_stamping')),
    -- No foreign key: a unit's leaders are replaced when the unit is updated.
    leader_id TEXT NULL,
    key_algorithm TEXT NOT NULL,
    custody TEXT NOT NULL CHECK (custody IN ('sealed', 'data_directory', 'token', 'external')),
    custody_armoured TEXT NULL,
    custody_token TEXT NULL,
    custody_key_label TEXT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('development', 'issued', 'imported')),
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    registered_at INTEGER NOT NULL,
    certificate_der TEXT NOT NULL,
    chain_der TEXT NOT NULL,
    revoked_at INTEGER NULL,
    revocation_reason TEXT NULL,
    revocation_recorded_at INTEGER NULL,
    CHECK ((role_kind = 'leader') = (leader_id IS NOT NULL)),
    CHECK ((custody = 'sealed') = (custody_armoured IS NOT NULL)),
    CHECK ((custody = 'token') = (custody_token IS NOT NULL)),
    CHECK ((custody = 'token') = (custody_key_label IS NOT NULL)),
    CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL)),
    CHECK ((revoked_at IS NULL) = (revocation_recorded_at IS NULL))
) STRICT;

-- A serial names one certificate of each kyso CA; NULLs (imported
-- certificates) never clash.
CREATE UNIQUE INDEX certificates_by_serial ON certificates (issuer_ca, serial);
-- Listings come in registration order.
CREATE INDEX certificates_by_registration ON certificates (registered_at, fingerprint);

CREATE TABLE crls (
    issuer_ca TEXT NOT NULL,
    -- The cRLNumber (RFC 5280 §5.2.3): from 1, growing per CA.
    number INTEGER NOT NULL CHECK (number >= 1),
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    der TEXT NOT NULL,
    PRIMARY KEY (issuer_ca, number)
) STRICT, WITHOUT ROWID;

-- One row per signature kyso made, kept even when the ledger entry keeps an
-- earlier signature: the proof of when a signature was made.
CREATE TABLE signatures (
    -- SHA-256 of the CMS SignerInfo signature value, lower-case hex.
    signature_sha256 TEXT NOT NULL PRIMARY KEY,
    unit_code TEXT NOT NULL REFERENCES units (code),
    document_id TEXT NOT NULL,
    -- The leader, for a leader's signature; NULL for the organisation's.
    leader_id TEXT NULL,
    certificate_serial TEXT NOT NULL,
    signed_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The signature each ledger entry keeps, when kyso made it with evidence.
ALTER TABLE documents ADD COLUMN organisation_signature_sha256 TEXT NULL;
ALTER TABLE documents ADD COLUMN leader_signature_sha256 TEXT NULL;
