#!/usr/bin/python3
"""Create the README demo set in DIR (default: ./demo-models):

  test_critical.pkl  os.system       -> CRITICAL (pickles as 'posix system')
  test_high.pkl      webbrowser.open -> HIGH
  test_medium.pkl    print           -> MEDIUM (non-allow-listed global 'builtins print')
  benign_model.pt    a real PyTorch state_dict written by torch.save -> clean

The three pickles are written exactly as the seed article's make-bad-model.py writes them
(pickle.dump with the default protocol). Writing them only serializes; nothing here ever
loads them. Do NOT pickle.load / torch.load the three test_*.pkl files: that runs them.

Then:  weightwall scan DIR
"""
import os
import pickle
import sys
import webbrowser


# --- 1. CRITICAL: Shell Access ---
class CriticalMalicious:
    def __reduce__(self):
        return (os.system, ("echo 'CRITICAL DETECTED'",))


# --- 2. HIGH: Network/Browser Interaction ---
class HighRisk:
    def __reduce__(self):
        return (webbrowser.open, ("http://malicious-site.com",))


# --- 3. MEDIUM: non-standard global ---
class MediumRisk:
    def __reduce__(self):
        return (print, ("Potential unsafe logging",))


def write_benign_checkpoint(path):
    import torch

    class TinyClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(16, 32)
            self.fc2 = torch.nn.Linear(32, 4)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    torch.manual_seed(0)
    torch.save(TinyClassifier().state_dict(), path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "demo-models"
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "test_critical.pkl"), "wb") as f:
        pickle.dump(CriticalMalicious(), f)
    with open(os.path.join(out, "test_high.pkl"), "wb") as f:
        pickle.dump(HighRisk(), f)
    with open(os.path.join(out, "test_medium.pkl"), "wb") as f:
        pickle.dump(MediumRisk(), f)
    write_benign_checkpoint(os.path.join(out, "benign_model.pt"))
    print(f"wrote test_critical.pkl, test_high.pkl, test_medium.pkl, benign_model.pt to {out}")


if __name__ == "__main__":
    main()
