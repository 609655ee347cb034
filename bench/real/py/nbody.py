# nbody.py — the n-body simulation, bodies as dicts; prints trunc(-energy * 1e9) after argv[1] steps.
import sys
from math import sqrt

PI = 3.141592653589793
SOLAR_MASS = 4.0 * PI * PI
DAYS = 365.24


def body(x, y, z, vx, vy, vz, mass):
    return {"x": x, "y": y, "z": z, "vx": vx * DAYS, "vy": vy * DAYS, "vz": vz * DAYS, "mass": mass * SOLAR_MASS}


def advance(bodies, dt):
    n = len(bodies)
    for i in range(n):
        b = bodies[i]
        for j in range(i + 1, n):
            c = bodies[j]
            dx = b["x"] - c["x"]
            dy = b["y"] - c["y"]
            dz = b["z"] - c["z"]
            d2 = dx * dx + dy * dy + dz * dz
            mag = dt / (d2 * sqrt(d2))
            bm = b["mass"] * mag
            cm = c["mass"] * mag
            b["vx"] = b["vx"] - dx * cm
            b["vy"] = b["vy"] - dy * cm
            b["vz"] = b["vz"] - dz * cm
            c["vx"] = c["vx"] + dx * bm
            c["vy"] = c["vy"] + dy * bm
            c["vz"] = c["vz"] + dz * bm
    for b in bodies:
        b["x"] = b["x"] + dt * b["vx"]
        b["y"] = b["y"] + dt * b["vy"]
        b["z"] = b["z"] + dt * b["vz"]


def energy(bodies):
    e = 0.0
    n = len(bodies)
    for i in range(n):
        b = bodies[i]
        e = e + 0.5 * b["mass"] * (b["vx"] * b["vx"] + b["vy"] * b["vy"] + b["vz"] * b["vz"])
        for j in range(i + 1, n):
            c = bodies[j]
            dx = b["x"] - c["x"]
            dy = b["y"] - c["y"]
            dz = b["z"] - c["z"]
            e = e - b["mass"] * c["mass"] / sqrt(dx * dx + dy * dy + dz * dz)
    return e


def main():
    bodies = [
        body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        body(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
             1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05, 9.54791938424326609e-04),
        body(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
             -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05, 2.85885980666130812e-04),
        body(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
             2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05, 4.36624404335156298e-05),
        body(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
             2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05, 5.15138902046611451e-05),
    ]
    px = py = pz = 0.0
    for b in bodies:
        px = px + b["vx"] * b["mass"]
        py = py + b["vy"] * b["mass"]
        pz = pz + b["vz"] * b["mass"]
    bodies[0]["vx"] = 0.0 - px / SOLAR_MASS
    bodies[0]["vy"] = 0.0 - py / SOLAR_MASS
    bodies[0]["vz"] = 0.0 - pz / SOLAR_MASS
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for _ in range(steps):
        advance(bodies, 0.01)
    print(int(0.0 - energy(bodies) * 1000000000))


main()
