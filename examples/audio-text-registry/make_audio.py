"""Write a small mono WAV file: a tone that rises and falls, a stand-in for a
recording. The same arguments write the same bytes.

    python3 make_audio.py OUT.wav --seconds S [--pitch HZ]
"""

import argparse
import math
import struct
import wave

RATE = 8000  # frames per second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--pitch", type=float, default=220.0, help="the tone's base frequency")
    args = parser.parse_args()

    frames = int(args.seconds * RATE)
    samples = []
    for n in range(frames):
        t = n / RATE
        pitch = args.pitch * (1 + 0.25 * math.sin(2 * math.pi * t / max(args.seconds, 0.1)))
        samples.append(int(12000 * math.sin(2 * math.pi * pitch * t)))
    with wave.open(args.out, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{frames}h", *samples))


if __name__ == "__main__":
    main()
