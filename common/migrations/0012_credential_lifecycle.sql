-- Credentials that change (docs/adr/0005): a client can be disabled (none of its credentials
-- work until it is enabled again), deleted (for good; its tasks stay, seen by admin keys) and
-- given a new secret (its tokens are revoked with the old one). A token can be revoked by its
-- client (RFC 7009).
ALTER TABLE clients ADD COLUMN enabled boolean NOT NULL DEFAULT true,
                    ADD COLUMN deleted_at timestamptz;

-- Every change to a stored credential is announced on the channel conveyor_credentials with
-- the id of the client or admin key it belongs to, whoever made it (the producer, or an
-- operator in psql): each producer listening forgets what it cached of that id at once.
-- The trigger's argument names the column that holds that id.
CREATE FUNCTION conveyor_credential_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('conveyor_credentials', to_jsonb(OLD) ->> TG_ARGV[0]);
  RETURN NULL;
END $$;

CREATE TRIGGER clients_changed AFTER UPDATE OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION conveyor_credential_changed('id');
CREATE TRIGGER admin_keys_changed AFTER UPDATE OR DELETE ON admin_keys
  FOR EACH ROW EXECUTE FUNCTION conveyor_credential_changed('id');
-- Tokens: a revocation; dropping expired tokens announces nothing.
CREATE TRIGGER access_tokens_revoked AFTER UPDATE OF revoked_at ON access_tokens
  FOR EACH ROW EXECUTE FUNCTION conveyor_credential_changed('client_id');
