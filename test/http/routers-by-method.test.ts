/**
 * routersByMethod: a request meets the middleware and routes of its own method's router only, HEAD
 * goes where GET does, and a request no router takes falls through to what comes after them.
 */
import express from 'express';
import request from 'supertest';
import { routersByMethod, type RouteSpec } from '../../infra/http/routes';

function route(method: RouteSpec['method'], path: string): RouteSpec {
  return { method, path, access: 'public', summary: `${method} ${path}`, handler: (req, res) => res.json({ route: `${method} ${path}`, saw: res.locals.saw }) };
}

describe('routers by method', () => {
  const routes = [route('get', '/items/:id'), route('put', '/items/:id'), route('post', '/items'), route('get', '/other')];
  const app = express();
  for (const router of routersByMethod(routes, (r, own) => {
    r.use((_req, res, next) => {
      res.locals.saw = [...(res.locals.saw ?? []), `${own[0]!.method} middleware`];
      next();
    });
    for (const spec of own) r[spec.method](spec.path, spec.handler as express.RequestHandler);
  })) {
    app.use(router);
  }
  app.use((_req, res) => res.status(404).json({ fallthrough: true }));

  it("runs only the request's own method's middleware before its route", async () => {
    expect((await request(app).put('/items/7')).body).toEqual({ route: 'put /items/:id', saw: ['put middleware'] });
    expect((await request(app).get('/items/7')).body).toEqual({ route: 'get /items/:id', saw: ['get middleware'] });
    expect((await request(app).post('/items')).body).toEqual({ route: 'post /items', saw: ['post middleware'] });
  });

  it('sends HEAD where GET goes', async () => {
    const head = await request(app).head('/other');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toMatch(/json/);
  });

  it('lets a method or path no router takes fall through', async () => {
    expect((await request(app).delete('/items/7')).body).toEqual({ fallthrough: true });
    expect((await request(app).put('/nowhere')).body).toEqual({ fallthrough: true });
  });
});
