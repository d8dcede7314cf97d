from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin

# django-auditlog's admin already refuses adding and changing entries; this one also refuses
# deleting them, and is for superusers only: an entry may name any force's record (PCC staff
# read their own force's trails on /audit/).
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditTrailAdmin(LogEntryAdmin):
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False
