-- CreateIndex
CREATE INDEX "messages_author_id_recipient_id_id_idx" ON "messages"("author_id", "recipient_id", "id");
