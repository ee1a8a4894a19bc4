/**
 * Circles and sharing: read models kept by the `circles` projection (circles, their members and
 * invites, what is shared with them, prayers for shared prayer points, public links) and the sync
 * feed's copies kept by the `sync` projection (`sync_circles`, `sync_circle_members`,
 * `sync_circle_shares`), stamped with log positions like the other sync tables. Public links keep only
 * the SHA-256 of their token; invites keep no token at all (the circle's stream has its hash).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE circles (
      id           uuid PRIMARY KEY,
      name         text NOT NULL,
      description  text,
      open_invites boolean NOT NULL DEFAULT false,
      owner_id     uuid NOT NULL,
      created_at   timestamptz NOT NULL,
      updated_at   timestamptz NOT NULL,
      deleted      boolean NOT NULL DEFAULT false,
      revision     bigint NOT NULL
    );

    CREATE TABLE circle_members (
      circle_id uuid NOT NULL,
      user_id   uuid NOT NULL,
      role      text NOT NULL CHECK (role IN ('owner', 'member')),
      added_at  timestamptz NOT NULL,
      revision  bigint NOT NULL,
      PRIMARY KEY (circle_id, user_id)
    );
    CREATE INDEX circle_members_by_user ON circle_members (user_id);

    CREATE TABLE circle_invites (
      id          uuid PRIMARY KEY,
      circle_id   uuid NOT NULL,
      email       text,
      expires_at  timestamptz NOT NULL,
      status      text NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked')),
      issued_by   uuid NOT NULL,
      issued_at   timestamptz NOT NULL,
      accepted_by uuid,
      revision    bigint NOT NULL
    );
    CREATE INDEX circle_invites_by_circle ON circle_invites (circle_id);

    CREATE TABLE circle_shares (
      item_type text NOT NULL CHECK (item_type IN ('note', 'prayerPoint')),
      item_id   uuid NOT NULL,
      circle_id uuid NOT NULL,
      owner_id  uuid NOT NULL,
      shared_at timestamptz NOT NULL,
      revision  bigint NOT NULL,
      PRIMARY KEY (item_type, item_id, circle_id)
    );
    CREATE INDEX circle_shares_by_circle ON circle_shares (circle_id);

    CREATE TABLE prayer_records (
      prayer_point_id uuid NOT NULL,
      user_id         uuid NOT NULL,
      times           integer NOT NULL,
      last_prayed_at  timestamptz NOT NULL,
      revision        bigint NOT NULL,
      PRIMARY KEY (prayer_point_id, user_id)
    );

    CREATE TABLE public_links (
      id         uuid PRIMARY KEY,
      item_type  text NOT NULL CHECK (item_type IN ('document', 'note')),
      item_id    uuid NOT NULL,
      token_hash text NOT NULL UNIQUE,
      expires_at timestamptz,
      created_by uuid NOT NULL,
      created_at timestamptz NOT NULL,
      revoked    boolean NOT NULL DEFAULT false,
      revision   bigint NOT NULL
    );
    CREATE INDEX public_links_by_item ON public_links (item_type, item_id);

    CREATE TABLE sync_circles (
      id          uuid PRIMARY KEY,
      name        text NOT NULL,
      description text,
      created_at  timestamptz NOT NULL,
      deleted     boolean NOT NULL DEFAULT false,
      revision    bigint NOT NULL,
      position    text COLLATE "C" NOT NULL,
      changed_at  timestamptz NOT NULL
    );

    CREATE TABLE sync_circle_members (
      circle_id       uuid NOT NULL,
      user_id         uuid NOT NULL,
      role            text NOT NULL,
      removed         boolean NOT NULL DEFAULT false,
      joined_position text COLLATE "C" NOT NULL,
      revision        bigint NOT NULL,
      position        text COLLATE "C" NOT NULL,
      changed_at      timestamptz NOT NULL,
      PRIMARY KEY (circle_id, user_id)
    );
    CREATE INDEX sync_circle_members_by_user ON sync_circle_members (user_id);

    CREATE TABLE sync_circle_shares (
      item_type text NOT NULL,
      item_id   uuid NOT NULL,
      circle_id uuid NOT NULL,
      owner_id  uuid NOT NULL,
      shared_at timestamptz NOT NULL,
      unshared  boolean NOT NULL DEFAULT false,
      -- where the item was first shared with the circle: who lost the circle after that may have had it
      shared_position text COLLATE "C" NOT NULL,
      revision  bigint NOT NULL,
      position  text COLLATE "C" NOT NULL,
      changed_at timestamptz NOT NULL,
      PRIMARY KEY (item_type, item_id, circle_id)
    );
    CREATE INDEX sync_circle_shares_by_circle ON sync_circle_shares (circle_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'DROP TABLE IF EXISTS sync_circle_shares, sync_circle_members, sync_circles, public_links, prayer_records, circle_shares, circle_invites, circle_members, circles',
  );
}
