-- Positions: every message gets a gapless place in its stream (its room; for a private message,
-- its author's and its recipient's private streams), so a client can tell a missing message
-- from a late one. Existing rows are numbered in id order.

-- AlterTable
ALTER TABLE "messages" ADD COLUMN "room_position" BIGINT,
ADD COLUMN "author_position" BIGINT,
ADD COLUMN "recipient_position" BIGINT;

-- CreateTable
CREATE TABLE "message_streams" (
    "stream" TEXT NOT NULL,
    "last_position" BIGINT NOT NULL,

    CONSTRAINT "message_streams_pkey" PRIMARY KEY ("stream")
);

-- Backfill: rooms.
UPDATE "messages" m SET "room_position" = r.p
FROM (SELECT "id", row_number() OVER (PARTITION BY "room" ORDER BY "id") AS p FROM "messages" WHERE "room" IS NOT NULL) r
WHERE m."id" = r."id";

-- Backfill: each user's private stream holds what they sent and what they received.
CREATE TEMPORARY TABLE "private_positions" AS
SELECT "id", "user_id", "own", row_number() OVER (PARTITION BY "user_id" ORDER BY "id") AS p
FROM (
  SELECT "id", "author_id" AS "user_id", true AS "own" FROM "messages" WHERE "recipient_id" IS NOT NULL
  UNION ALL
  SELECT "id", "recipient_id", false FROM "messages" WHERE "recipient_id" IS NOT NULL AND "recipient_id" <> "author_id"
) e;
UPDATE "messages" m SET "author_position" = pp.p FROM "private_positions" pp WHERE m."id" = pp."id" AND pp."own";
UPDATE "messages" m SET "recipient_position" = pp.p FROM "private_positions" pp WHERE m."id" = pp."id" AND NOT pp."own";
UPDATE "messages" SET "recipient_position" = "author_position" WHERE "recipient_id" = "author_id";

INSERT INTO "message_streams" ("stream", "last_position")
SELECT 'room:' || "room", max("room_position") FROM "messages" WHERE "room" IS NOT NULL GROUP BY "room"
UNION ALL
SELECT 'user:' || "user_id", max(p) FROM "private_positions" GROUP BY "user_id";

DROP TABLE "private_positions";

-- CreateIndex
CREATE UNIQUE INDEX "messages_room_room_position_key" ON "messages"("room", "room_position");

-- CreateIndex
CREATE INDEX "messages_author_id_author_position_idx" ON "messages"("author_id", "author_position");

-- CreateIndex
CREATE INDEX "messages_recipient_id_recipient_position_idx" ON "messages"("recipient_id", "recipient_position");
