"""The REST API at /api/v1: every app's router, one auth policy, problem+json errors."""

from ninja import NinjaAPI

from micromarket.accounts.api import router as accounts_router
from micromarket.accounts.auth import api_auth
from micromarket.books.api import router as books_router
from micromarket.catalog.api import router as catalog_router
from micromarket.core.api import install_problem_handlers
from micromarket.messaging.api import router as messaging_router
from micromarket.messaging.notification_api import router as notifications_router
from micromarket.orders.api import router as orders_router
from micromarket.payments.api import router as payments_router
from micromarket.projects.api import router as projects_router
from micromarket.trust.api import router as trust_router

api = NinjaAPI(
    title="micromarket API",
    version="1",
    description=(
        "Authenticate with your browser session (send the CSRF token as X-CSRFToken on writes) "
        "or a personal access token: `Authorization: Bearer mm_…`. Errors are RFC 9457 "
        "problem+json with a stable `code`. Lists take `limit` and `offset` and answer "
        "`{items, count, limit, offset, next, previous}`."
    ),
    urls_namespace="api",
    auth=api_auth,
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_problem_handlers(api)
api.add_router("/", accounts_router)
api.add_router("/", catalog_router)
api.add_router("/", payments_router)
api.add_router("/", orders_router)
api.add_router("/", notifications_router)
api.add_router("/", messaging_router)
api.add_router("/", trust_router)
api.add_router("/books", books_router)
api.add_router("/projects", projects_router)
