import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '@parley/config';
import { idParamsSchema, pageQuerySchema, ParleyError, postBodySchema, postUpdateSchema, type Post } from '@parley/protocol';
import { parse } from '../validation.ts';

/**
 * Posts. Creating one answers 201 as soon as the post and its fan-out job are committed;
 * followers' notifications are created and delivered right after, in batches.
 */
export const postRoutes: FastifyPluginAsync<{ config: Config }> = async (app, { config }) => {
  /** The post named by `:id`; 404 when there is none. */
  async function findPost(request: FastifyRequest): Promise<Post> {
    const { id } = parse(idParamsSchema, request.params);
    const post = await app.repos.posts.findById(id);
    if (!post) throw new ParleyError('not_found', `No post ${id}`);
    return post;
  }

  /** The post, if it exists and the caller wrote it. */
  async function ownPost(request: FastifyRequest): Promise<Post> {
    const post = await findPost(request);
    if (post.authorId !== request.user.id) throw new ParleyError('forbidden', 'Only the author may change this post');
    return post;
  }

  app.post('/posts', { preHandler: app.authenticate }, async (request, reply) => {
    const body = parse(postBodySchema, request.body);
    const { post, jobId } = await app.repos.posts.createWithFanout(request.user.id, body, config.nodeId);
    // Registered now (so fanout.idle() sees it), run once this answer has been written.
    if (jobId !== null) app.fanout.start(jobId);
    return reply.code(201).send(post);
  });

  app.get('/posts', async (request) => {
    const { before, limit } = parse(pageQuerySchema, request.query);
    return { posts: await app.repos.posts.list(limit, before) };
  });

  app.get('/posts/:id', (request) => findPost(request));

  app.put('/posts/:id', { preHandler: app.authenticate }, async (request) => {
    const { id } = await ownPost(request);
    const changes = parse(postUpdateSchema, request.body);
    const post = await app.repos.posts.update(id, changes);
    if (!post) throw new ParleyError('not_found', `No post ${id}`);
    app.io.emit('postUpdated', post);
    return post;
  });

  app.delete('/posts/:id', { preHandler: app.authenticate }, async (request, reply) => {
    const { id } = await ownPost(request);
    if (!(await app.repos.posts.delete(id))) throw new ParleyError('not_found', `No post ${id}`);
    app.io.emit('postDeleted', id);
    return reply.code(204).send();
  });
};
