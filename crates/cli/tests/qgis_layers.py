"""QGIS itself (PyQGIS, Debian's python3-qgis) adds truce's OGC API - Features
collections as layers, as a user does with Layer > Add WFS / OGC API - Features Layer.

Run by crates/cli/tests/ogc_gdal.rs: python3 qgis_layers.py BASE_URL ANALYST_TOKEN.
An analyst confirms one incident through the JSON API first, so that the public
(QGIS sends no token here) has one incident to see. Prints one JSON line per layer.
"""
import json
import os
import sys
import urllib.request

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import Qgis, QgsApplication, QgsVectorLayer  # noqa: E402

base, token = sys.argv[1], sys.argv[2]
auth = {"Authorization": f"Bearer {token}"}


def api(path, body=None):
    req = urllib.request.Request(base + path, headers=dict(auth, **({"Content-Type": "application/json"} if body else {})),
                                 data=json.dumps(body).encode() if body else None)
    with urllib.request.urlopen(req) as r:
        return json.load(r)


first = api("/api/v1/incidents?violating=true&limit=1")["incidents"][0]
api("/api/v1/decisions", {"incident": first["id"], "verdict": "confirm", "reason": "QGIS layer test"})

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
print(json.dumps({"qgis": Qgis.QGIS_VERSION, "confirmed": first["id"]}))
for name in ["incidents", "zones", "contact-line"]:
    lyr = QgsVectorLayer(f"url='{base}/ogc' typename='{name}'", name, "OAPIF")
    feats = list(lyr.getFeatures()) if lyr.isValid() else []
    print(json.dumps({
        "layer": name,
        "valid": lyr.isValid(),
        "features": len(feats),
        "ids": sorted(str(f["id"]) for f in feats),
        "fields": [f.name() for f in lyr.fields()],
        "geometry": [f.geometry().asWkt()[:40] for f in feats[:1]],
    }))
# exitQgis() crashes in offscreen runs of some QGIS builds; everything is printed.
sys.stdout.flush()
os._exit(0)
