"""The thumbnail grid's model at scale (issue 17): rows found without scanning the list, and
thumbnails of rows scrolled past are not decrypted when their turn on the worker comes."""

import datetime as dt
import io

from PIL import Image
from PySide6.QtCore import Qt

from picsafe_desktop.model import ItemState, PhotoItem
from picsafe_desktop.ui import thumbnails
from picsafe_desktop.ui.thumbnails import ThumbnailModel


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def items(n: int) -> list[PhotoItem]:
    made = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return [
        PhotoItem(f"id{i:05d}", "batch", ItemState.ACTIVE, 10, "image/jpeg", made) for i in range(n)
    ]


def test_row_of_is_a_lookup_that_follows_the_items(qapp):
    model = ThumbnailModel(lambda _i: jpeg())
    model.set_items(items(10_000))
    assert model.row_of("id09999") == 9999
    assert model.row_of("nope") == -1
    model.set_items(items(3))
    assert model.row_of("id09999") == -1 and model.row_of("id00002") == 2


def test_a_request_scrolled_past_is_skipped_not_decrypted(qapp, qtbot):
    loaded = []

    def load(item_id):
        loaded.append(item_id)
        return jpeg()

    model = ThumbnailModel(load, size=32)
    model.set_items(items(400))
    model._asked = thumbnails.STALE_AFTER + 10  # that many newer requests since this one
    assert model._decode("id00001", 1) is None
    assert loaded == []
    caption, image = model._decode("id00002", model._asked)  # a current request is served
    assert loaded == ["id00002"] and image.width() == 32
    # The skipped row loads again when the view asks for it again.
    model._loaded("id00001", model._generation, None)
    index = model.index(1)
    model.data(index, Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: model.pixmap("id00001") is not None, timeout=10000)
