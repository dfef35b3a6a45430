import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '@parley/config';
import { ParleyError, type Post } from '@parley/protocol';
import { contractRoute } from './contract-route.ts';

/**
 * Posts. Creating one answers 201 as soon as the post and its fan-out job are committed;
 * followers' notifications are created and delivered right after, in batches.
 */
export const postRoutes: FastifyPluginAsync<{ config: Config }> = async (app, { config }) => {
  /** The post named by `:id`; 404 when there is none. */
  async function findPost(id: number): Promise<Post> {
    const post = await app.repos.posts.findById(id);
    if (!post) throw new ParleyError('not_found', `No post ${id}`);
    return post;
  }

  /** The post, if it exists and the caller wrote it. */
  async function ownPost(id: number, userId: number): Promise<Post> {
    const post = await findPost(id);
    if (post.authorId !== userId) throw new ParleyError('forbidden', 'Only the author may change this post');
    return post;
  }

  contractRoute(app, 'createPost', async (request, reply) => {
    const { post, jobId } = await app.repos.posts.createWithFanout(request.user.id, request.body, config.nodeId);
    // Registered now (so fanout.idle() sees it), run once this answer has been written.
    if (jobId !== null) app.fanout.start(jobId);
    reply.code(201);
    return post;
  });

  contractRoute(app, 'listPosts', async (request) => {
    const { before, limit } = request.query;
    return { posts: await app.repos.posts.list(limit, before) };
  });

  contractRoute(app, 'getPost', (request) => findPost(request.params.id));

  contractRoute(app, 'updatePost', async (request) => {
    const { id } = await ownPost(request.params.id, request.user.id);
    const post = await app.repos.posts.update(id, request.body);
    if (!post) throw new ParleyError('not_found', `No post ${id}`);
    app.io.emit('postUpdated', post);
    return post;
  });

  contractRoute(app, 'deletePost', async (request, reply) => {
    const { id } = await ownPost(request.params.id, request.user.id);
    if (!(await app.repos.posts.delete(id))) throw new ParleyError('not_found', `No post ${id}`);
    app.io.emit('postDeleted', id);
    reply.code(204);
  });
};
