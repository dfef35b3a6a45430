-- Read state (docs/PROTOCOL.md "Read state"): per user and room, and per user and peer, how far
-- the user has read, as a position in the stream (the room's; the user's own private stream).
-- Conversations that exist already count as read up to now: an upgrade marks nothing unread.

-- CreateTable
CREATE TABLE "room_reads" (
    "user_id" INTEGER NOT NULL,
    "room" VARCHAR(64) NOT NULL,
    "read_position" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "room_reads_pkey" PRIMARY KEY ("user_id","room")
);

-- CreateTable
CREATE TABLE "conversation_reads" (
    "user_id" INTEGER NOT NULL,
    "peer_id" INTEGER NOT NULL,
    "read_position" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "conversation_reads_pkey" PRIMARY KEY ("user_id","peer_id")
);

-- CreateIndex
CREATE INDEX "conversation_reads_peer_id_idx" ON "conversation_reads"("peer_id");

-- DropIndex: replaced by the one below, which serves the same look-ups by recipient (and the
-- conversation list); with both, the planner could take this one for the list's skip scan and
-- filter its way through every private message.
DROP INDEX "messages_recipient_id_id_idx";

-- CreateIndex
CREATE INDEX "messages_recipient_id_author_id_recipient_position_idx" ON "messages"("recipient_id", "author_id", "recipient_position");

-- AddForeignKey
ALTER TABLE "room_reads" ADD CONSTRAINT "room_reads_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_reads" ADD CONSTRAINT "conversation_reads_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_reads" ADD CONSTRAINT "conversation_reads_peer_id_fkey" FOREIGN KEY ("peer_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: every conversation is read up to the last message the user received in it.
INSERT INTO "conversation_reads" ("user_id", "peer_id", "read_position")
SELECT "recipient_id", "author_id", max("recipient_position")
FROM "messages"
WHERE "recipient_id" IS NOT NULL AND "recipient_id" <> "author_id" AND "recipient_position" IS NOT NULL
GROUP BY "recipient_id", "author_id";
