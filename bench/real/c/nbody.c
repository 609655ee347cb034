/* nbody.c — the n-body simulation; prints trunc(-energy * 1e9) after argv[1] steps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PI 3.141592653589793
#define SOLAR_MASS (4.0 * PI * PI)
#define DAYS 365.24

typedef struct { double x, y, z, vx, vy, vz, mass; } body;

static body mk(double x, double y, double z, double vx, double vy, double vz, double mass)
{
    body b = { x, y, z, vx * DAYS, vy * DAYS, vz * DAYS, mass * SOLAR_MASS };
    return b;
}

static void advance(body *bs, int n, double dt)
{
    for (int i = 0; i < n; i++) {
        body *b = &bs[i];
        for (int j = i + 1; j < n; j++) {
            body *c = &bs[j];
            double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            double bm = b->mass * mag, cm = c->mass * mag;
            b->vx = b->vx - dx * cm; b->vy = b->vy - dy * cm; b->vz = b->vz - dz * cm;
            c->vx = c->vx + dx * bm; c->vy = c->vy + dy * bm; c->vz = c->vz + dz * bm;
        }
    }
    for (int i = 0; i < n; i++) {
        bs[i].x = bs[i].x + dt * bs[i].vx;
        bs[i].y = bs[i].y + dt * bs[i].vy;
        bs[i].z = bs[i].z + dt * bs[i].vz;
    }
}

static double energy(const body *bs, int n)
{
    double e = 0.0;
    for (int i = 0; i < n; i++) {
        const body *b = &bs[i];
        e = e + 0.5 * b->mass * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
        for (int j = i + 1; j < n; j++) {
            const body *c = &bs[j];
            double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
            e = e - b->mass * c->mass / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 1000;
    body bs[5] = {
        mk(0, 0, 0, 0, 0, 0, 1),
        mk(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
           1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05, 9.54791938424326609e-04),
        mk(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
           -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05, 2.85885980666130812e-04),
        mk(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
           2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05, 4.36624404335156298e-05),
        mk(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
           2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05, 5.15138902046611451e-05),
    };
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < 5; i++) {
        px = px + bs[i].vx * bs[i].mass; py = py + bs[i].vy * bs[i].mass; pz = pz + bs[i].vz * bs[i].mass;
    }
    bs[0].vx = 0.0 - px / SOLAR_MASS; bs[0].vy = 0.0 - py / SOLAR_MASS; bs[0].vz = 0.0 - pz / SOLAR_MASS;
    for (int k = 0; k < steps; k++) advance(bs, 5, 0.01);
    printf("%lld\n", (long long)(0.0 - energy(bs, 5) * 1000000000));
    return 0;
}
