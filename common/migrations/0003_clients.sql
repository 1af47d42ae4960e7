-- Clients (tenants) and credentials (docs/adr/0005). Secrets are stored only as PBKDF2-HMAC-
-- SHA256 hashes ("pbkdf2-sha256$<iterations>$<salt>$<hash>", base64url); bearer tokens only
-- as the hex SHA-256 of the token. Written straight by the producer, not through events.

CREATE TABLE clients (
  id           uuid PRIMARY KEY,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 18),
  secret_hash  text NOT NULL,
  user_id      uuid NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  created_by   text NOT NULL DEFAULT ''
);

-- Operators' keys: an admin key sees every client's tasks and manages clients and the
-- task-type catalogue. A revoked key stops working once the producer's credential cache
-- forgets it (--auth-cache-seconds).
CREATE TABLE admin_keys (
  id           uuid PRIMARY KEY,
  name         text NOT NULL,
  secret_hash  text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);

-- Bearer tokens issued by POST /Token to a client.
CREATE TABLE access_tokens (
  token_sha256 text PRIMARY KEY,
  client_id    uuid NOT NULL REFERENCES clients (id),
  issued_at    timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

CREATE INDEX tasks_client ON tasks (client_id, created_at);
