-- CreateTable
CREATE TABLE "fanout_jobs" (
    "id" BIGSERIAL NOT NULL,
    "post_id" INTEGER NOT NULL,
    "author_id" INTEGER NOT NULL,
    "cursor" INTEGER NOT NULL DEFAULT 0,
    "claimed_by" VARCHAR(64),
    "claimed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "fanout_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "fanout_jobs_claimed_at_idx" ON "fanout_jobs"("claimed_at");

-- AddForeignKey
ALTER TABLE "fanout_jobs" ADD CONSTRAINT "fanout_jobs_post_id_fkey" FOREIGN KEY ("post_id") REFERENCES "posts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

